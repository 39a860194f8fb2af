// Package modphp is the one statement of what PHP 8's Apache module
// (mod_php, php-src sapi/apache2handler) does with its directives. lint's
// rules, the shim and plan ask it instead of restating the answers; it
// works on strings, so that the parser can use it too.
//
// Every answer is checked against real Apache prefork + mod_php 8 by
// TestIntegrationModPHP (integration_test.go), whose subtests are named
// below; the unit tests restate them for machines without Apache.
//
//   - Directives (Directive, Kind): php_value and php_flag set a value
//     with PHP_INI_PERDIR status, php_admin_value and php_admin_flag with
//     PHP_INI_SYSTEM; names are case-insensitive.
//   - Stored values (Stored; subtest values): php_flag and php_admin_flag
//     store "1" for "on" in any case or exactly "1" and "0" for anything
//     else, so "yes", "true" and "2" are off; php_value stores "" for
//     "none" in any case and its argument verbatim otherwise — "true"
//     stays "true" and "E_ALL & ~E_NOTICE" is not evaluated.
//   - Which settings take effect (Applies; values): a setting whose status
//     the INI directive's modifiable mask lacks is dropped without a log
//     line — php_value expose_php, in a .htaccess or in httpd.conf — while
//     php_admin_value sets it, and sets even a key whose mask lacks
//     PHP_INI_SYSTEM (session.upload_progress.name) — from the server
//     configuration only: from a .htaccess (AppliesInAccessFile; subtest
//     access) every kind needs its own status in the mask.
//   - Merging (Overrides; subtest merge): a deeper scope's value replaces
//     an enclosing one unless the enclosing one is php_admin_*:
//     php_admin_value memory_limit 200M in <Directory> beats php_value
//     memory_limit 77M in that directory's .htaccess.
//   - engine (EngineOff; subtest engine): the stored value read as a PHP
//     boolean (Bool); false makes httpd send the script's source. So
//     php_flag engine yes and php_value engine foo turn PHP off,
//     php_value engine 2 or -1 leaves it on, and "Engine" (another INI
//     name) does nothing.
//   - <IfModule> (GuardMatches, IsGuardName, GuardNames; subtest guards):
//     PHP 8's module answers only to php_module and mod_php.c, compared
//     case-sensitively; mod_php8.c, php8_module, mod_php7.c, mod_php8.2.c,
//     libphp8.2.so, sapi_apache2.c and MOD_PHP.C never match, so
//     <IfModule !mod_php8.c> is always true.
//   - <Files> and <FilesMatch> (CompileFiles, Files.Match; subtest files):
//     tested against the base name of the script, path info removed;
//     <Files> with a wildcard is apr_fnmatch ("[!x]" and "[^x]" negate, a
//     leading "]" belongs to the class, "\" quotes), without one an exact,
//     case-sensitive comparison ("\x.php" is not a wildcard and does not
//     match x.php); <FilesMatch> and <Files ~> a regular expression, $
//     being the end of the name (httpd's DOLLAR_ENDONLY); of PCRE's
//     look-arounds, only a literal look-behind before a literal end
//     ((?<!\.min)\.js$) is evaluated (TestLookbehindAgainstPCRE).
//   - .htaccess and AllowOverride (InAccessFile; subtest access): php_value
//     and php_flag need AllowOverride Options (All, Options, or
//     Options=Indexes — any Options form grants them); without it the
//     request answers 500 "php_value not allowed here", also inside
//     <IfModule mod_php.c>. php_admin_value and php_admin_flag answer 500
//     "not allowed here" in every .htaccess, whatever AllowOverride says —
//     but AllowOverrideList php_admin_value lets the line through and its
//     value applies (php_admin_value memory_limit; not
//     session.upload_progress.name, see above). AllowOverride
//     Nonfatal=Override turns each refusal into a skipped line.
//   - Writing a stored value into INI syntax (INILiteral, INIQuoted;
//     subtest values):
//     the literal reads back unchanged through PHP's INI scanner, the one
//     of php.ini, .user.ini, php-fpm pools and PHP_VALUE — where a bare
//     Off would become "" and a bare E_ALL a number.
package modphp
