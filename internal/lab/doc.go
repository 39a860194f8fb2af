// Package lab starts real php-fpm and Apache httpd servers for integration
// tests, each with its own generated configuration in a temporary
// directory, listening only on Unix sockets or 127.0.0.1, and stopped in
// t.Cleanup. Nothing under /etc is changed; the stock php.ini is read.
//
// Tests that need a server call StartFPM or StartApache, which skip the test
// when the binary is missing, unless MODPHP_MIGRATE_REAL=1 is set (CI sets
// it), in which case they fail. The set-ups are those under which the facts
// of docs/behaviour.md were observed.
package lab
