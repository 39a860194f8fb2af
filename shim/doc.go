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
//     mod_php would (Resolver; docs/behaviour.md#b-modphp-system,
//     #b-modphp-precedence, #b-modphp-values), together with server-config php_value/php_admin_value when an
//     Apache configuration is given;
//   - answers 403 itself when php_flag engine off is in effect, and 500 when
//     an access file cannot be read as mod_php would (never a request with
//     half the settings);
//   - drops PHP_VALUE, PHP_ADMIN_VALUE and REQUEST_BODY_FILE params (and
//     their REDIRECT_ copies) that Apache passes from SetEnv and friends,
//     and restores unprefixed copies of REDIRECT_ variables as mod_php showed
//     them (ApplyEnvPolicy; docs/behaviour.md#b-redirect-env, #b-env-to-fpm);
//   - sends one PHP_VALUE in a form php-fpm's INI parser cannot reinterpret
//     (EncodePHPValue; docs/behaviour.md#b-fpm-ini-syntax) which, besides the settings
//     of this request, resets every key the shim ever set on that pool to the
//     pool's baseline, because php-fpm keeps PHP_VALUE settings in the worker
//     after the request (docs/behaviour.md#b-fpm-php-value); a value away
//     from its baseline follows the baseline, so a value PHP refuses leaves
//     the baseline, and a directive PHP cannot set back to an empty
//     baseline (phpMyAdmin's upload_tmp_dir) is applied only on a pool
//     serving nothing but its directory, else the request is a 500;
//   - decides open_basedir from an access file as PHP does at
//     PHP_INI_STAGE_HTACCESS (tighten only, on resolved paths), for every
//     request, and substitutes ${VAR} only from Apache's Defines and
//     envvars, never from its own environment.
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
