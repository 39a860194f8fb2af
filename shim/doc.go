// Package shim is the FastCGI relay that sits between Apache's
// mod_proxy_fcgi and php-fpm pools and gives PHP scripts what mod_php gave
// them.
//
// For every request it:
//
//   - finds the script and its document root in the params Apache sent
//     (SCRIPT_FILENAME with or without the proxy:fcgi:// prefix,
//     CONTEXT_DOCUMENT_ROOT, DOCUMENT_ROOT);
//   - reads the access files (.htaccess) from the document root down to the
//     script's directory by the path Apache built, following symbolic links
//     as httpd does, regular files only and without blocking on special
//     files (accessopen.go), and merges php_value and php_flag exactly as
//     mod_php would (Resolver; ../shared/FACTS.md Part A §3a, §3b and Part C
//     §2), together with server-config php_value/php_admin_value when an
//     Apache configuration is given;
//   - answers 403 itself when php_flag engine off is in effect, and 500 when
//     an access file cannot be read as mod_php would (never a request with
//     half the settings);
//   - drops PHP_VALUE, PHP_ADMIN_VALUE and REQUEST_BODY_FILE params (and
//     their REDIRECT_ copies) that Apache passes from SetEnv and friends,
//     and restores unprefixed copies of REDIRECT_ variables as mod_php showed
//     them (ApplyEnvPolicy; FACTS Part A §3c, §3g, Part C §1.5, §7);
//   - sends one PHP_VALUE in a form php-fpm's INI parser cannot reinterpret
//     (EncodePHPValue; FACTS Part A §4 E19/E20) which, besides the settings
//     of this request, resets every key the shim ever set on that pool to the
//     pool's baseline, because php-fpm keeps PHP_VALUE settings in the worker
//     after the request (FACTS Part A §4 E3/E4, Part C §1.3).
//
// Server runs the relay: a bounded front (503 instead of an unbounded queue),
// one kept-alive fcgi.Client per pool bounded by pm.max_children, 503 when
// php-fpm cannot be reached within the dial timeout and 504 when it sends
// nothing within the backend timeout, an access file cache validated by
// inode, size, mtime and ctime and bounded in entries and memory, graceful
// shutdown, reload without dropping requests, and a loopback status endpoint
// (Prometheus text and JSON, per pool).
//
// Only this package and cmd/modphp-migrate write logs; secrets
// (Authorization, Cookie and their REDIRECT_ copies) never reach them.
package shim
