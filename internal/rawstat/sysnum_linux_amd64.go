package rawstat

import "syscall"

// sysFstatat is fstatat(2)'s number here (newfstatat on amd64).
const sysFstatat = syscall.SYS_NEWFSTATAT
