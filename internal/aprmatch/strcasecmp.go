package aprmatch

// CaseMatch reports whether s matches pattern as httpd's
// ap_strcasecmp_match(s, pattern) decides it (server/util.c), the test
// name-based virtual hosting applies to a ServerAlias name containing '*'
// or '?' (server/vhost.c matches_aliases): '*' matches any run of
// characters, dots and slashes included, '?' any one character, and every
// other byte itself, ASCII letters in either case. There are no classes
// and no escapes: '[' and '\' are ordinary. httpd recurses at each '*';
// this backtracks only to the last one, with the same answers.
func CaseMatch(pattern, s string) bool {
	pattern, s = cString(pattern), cString(s)
	return starMatch(pattern, s, func(p string, c byte) (int, bool) {
		return 1, p[0] == '?' || lower(p[0]) == lower(c)
	})
}
