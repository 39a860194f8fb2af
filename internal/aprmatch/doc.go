// Package aprmatch is httpd's wildcard matching, the one implementation
// every part of modphp-migrate uses: apr_fnmatch and apr_fnmatch_test
// (APR's strings/apr_fnmatch.c, as APR 1.7 has them), which httpd uses
// for wildcard <Directory> and <Files> sections and for Include
// wildcards, and ap_strcasecmp_match (httpd's server/util.c), which
// name-based virtual hosting uses for ServerAlias names with '*' or '?'.
//
// Neither is Go's path.Match or filepath.Match: apr_fnmatch negates a
// class with '!' as well as '^', treats a malformed pattern (a '[' without
// its ']', a trailing '\') as ordinary characters instead of failing, never
// lets a class match '/' in pathname mode, and knows the leading-period
// rule; ap_strcasecmp_match has no classes and no escapes, ignores ASCII
// case, and lets '*' match dots and slashes. The table in
// aprmatch_test.go lists the differences, and a differential test checks
// Match against the system's libapr.
//
// Strings are read as C reads them, up to the first NUL byte.
package aprmatch
