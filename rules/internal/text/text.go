// Package text holds the wording rules share in messages and fixes.
package text

import "strings"

// Plural returns one for n == 1, else many.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// FileRoutedHandler is the recommended way to send PHP to php-fpm: by
// existing file, so that Apache maps the URL, reads every .htaccess on
// the way and splits PATH_INFO itself.
func FileRoutedHandler(handler string) string {
	return "<FilesMatch \"\\.php$\">\n    <If \"-f %{REQUEST_FILENAME}\">\n        SetHandler \"" + handler + "\"\n    </If>\n</FilesMatch>\n"
}

// IndentLines prefixes every non-empty line of s.
func IndentLines(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}
