// Package realapps serves PHP applications installed from their Debian
// packages three ways from the same files, each behind its own Apache
// built in a temporary ServerRoot (internal/lab) that includes the
// application's packaged Apache configuration read-only:
//
//   - ModPHP: Apache prefork with mod_php, as Debian runs it before the
//     switch;
//   - Shim: Apache event → proxy_fcgi → modphp-migrate shim → php-fpm;
//   - FPM: Apache event → proxy_fcgi → php-fpm, the switch as Debian
//     documents it (a2dismod php8.2 mpm_prefork; a2enmod mpm_event
//     proxy_fcgi setenvif; a2enconf php8.2-fpm).
//
// Each set-up loads the modules a fresh Debian apache2 enables and the
// directives of Debian's apache2.conf, and serves the same requests, so
// that their answers can be compared. Nothing under /etc is changed and
// no running service is used; the applications write only their own
// data (dokuwiki's cache under /var/lib/dokuwiki), as they would on a
// server.
package realapps
