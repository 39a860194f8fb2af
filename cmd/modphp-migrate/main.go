// Command modphp-migrate checks Apache httpd trees for what breaks when PHP
// moves from mod_php to php-fpm, and runs a FastCGI shim that keeps
// .htaccess php_value/php_flag working under php-fpm.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
