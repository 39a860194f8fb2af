// Package migrate computes the migration of an Apache httpd + mod_php
// server to php-fpm behind mod_proxy_fcgi as one consistent change set:
// which scopes (virtual hosts, directories, Aliases) get which php-fpm
// pool and user, where every PHP setting of the Apache configuration goes
// (pool, .user.ini, the shim, or nowhere because it never applied), which
// Apache configuration replaces mod_php, and which file permissions change.
//
// Build computes a Plan from a loaded tree; Plan.Files are the files it
// creates, changes or removes, with their content before and after. The
// package reads the disk (owners of document roots, file contents) but
// never writes it.
//
// Every question about mod_php's own semantics (directive kinds, flag
// values, which <IfModule> names match PHP 8, the extensions it executes)
// is answered in modphp.go, and nowhere else in the package.
package migrate
