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
	px, sx := 0, 0
	star, starS := -1, 0
	for {
		if px < len(pattern) {
			switch {
			case pattern[px] == '*':
				star, starS = px, sx
				px++
				continue
			case sx < len(s) && (pattern[px] == '?' || lower(pattern[px]) == lower(s[sx])):
				px, sx = px+1, sx+1
				continue
			}
		} else if sx == len(s) {
			return true
		}
		if star < 0 || starS >= len(s) {
			return false
		}
		starS++
		px, sx = star+1, starS
	}
}
