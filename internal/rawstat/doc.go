// Package rawstat is stat(2) for the shim's per-request validation of
// cached access files, made as a raw system call where that pays (Linux on
// amd64 and arm64) and through package syscall on the other Linux
// architectures. It has nothing for other systems, whose callers use
// os.Stat.
package rawstat
