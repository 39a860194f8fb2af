// Package fpmconf reads php-fpm's own configuration (php-fpm.conf, its
// include= files and pools) and php.ini with its scan directory (conf.d), the
// way php-fpm 8.2 and PHP read them, so that the shim and lint rules can ask
// what a pool's INI baseline is: the value a directive has in a fresh worker
// before any PHP_VALUE arrives.
//
// What it follows, from php-src:
//
//   - Both files are read with PHP's INI scanner (Zend/zend_ini_scanner.l,
//     ZEND_INI_SCANNER_NORMAL): unquoted On/yes/true become "1",
//     Off/no/false/none/null become "", ';' starts a comment, "…" keeps
//     spaces and expands ${VAR}, '…' is raw, E_* constants and | & ^ ~ ! ( )
//     are evaluated (docs/behaviour.md#b-fpm-ini-syntax). ${NAME} is looked up in
//     the php.ini settings read so far, then in the environment
//     (zend_ini_get_var). A syntax error stops a php.ini file there; php-fpm
//     refuses the whole configuration.
//   - php-fpm.conf is parsed one line at a time (sapi/fpm/fpm/fpm_conf.c
//     fpm_conf_load_ini_file), so a quoted value cannot span lines. include=
//     takes a glob; a relative pattern is relative to the prefix (-p, else
//     the compiled-in /usr), not to the including file; at most five files
//     may be open at once; a pattern whose directory does not exist is an
//     error, one that matches nothing only a warning. [global] switches back
//     to global directives, any other [name] opens or reopens a pool (names
//     compare case-insensitively). $pool in a value is the pool's name.
//     Timeouts take the suffixes s, m, h, d and are returned in seconds.
//   - php_value[k] and php_flag[k] go to one list, php_admin_value[k] and
//     php_admin_flag[k] to another; php-fpm keeps each list newest first and
//     applies the ordinary list before the admin one, so for a key set twice
//     the first line in the file wins and an admin value beats a plain one
//     (sapi/fpm/fpm/fpm_php.c fpm_php_apply_defines). Flags are stored as
//     "1" or "0".
//   - php.ini, then every *.ini of each scan directory in sorted order
//     (main/php_ini.c php_init_config); [PATH=…] and [HOST=…] sections are
//     kept apart and not applied; extension= and zend_extension= lines are
//     collected, not stored as settings; name[]= array entries are skipped.
//
// Problems are Diagnostics with a file:line:col position (the real line,
// also after an include=, where php-fpm's own messages count on from the
// included file); loading goes on after them and never panics. Constants other than E_* are not known here
// and stay as written.
package fpmconf
