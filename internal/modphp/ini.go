package modphp

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrINIUnwritable means a value cannot be written on one INI line so that
// PHP reads it back unchanged: it holds a newline, a carriage return or a
// NUL byte.
var ErrINIUnwritable = errors.New("value cannot be written as one INI value")

// plainINI are values PHP's INI scanner (ZEND_INI_SCANNER_NORMAL) returns
// unchanged when written bare: they start with a digit, '/' or '.', so
// they are neither a keyword (On, yes, none, …) nor a constant (E_ALL),
// and hold no operator, quote, '$' or ';'.
var plainINI = regexp.MustCompile(`^(?:[0-9./][A-Za-z0-9_./:+-]*|-[0-9]+)$`)

// INILiteral writes a stored value (Stored) in PHP's INI syntax so that
// the INI scanner — php.ini, .user.ini, a php-fpm pool's php_value[],
// PHP_VALUE — reads back exactly v, as mod_php handed it to PHP without
// any INI parsing. Plain values stay bare ("64M", "/tmp", "-1"); anything
// else becomes single-quoted raw segments, in which the scanner expands
// nothing and maps no keyword or constant; a single quote is written as
// "'" (a double-quoted string holding only it) and the empty value as "".
func INILiteral(v string) (string, error) {
	if v == "" {
		return `""`, nil
	}
	if i := strings.IndexAny(v, "\n\r\x00"); i >= 0 {
		return "", fmt.Errorf("byte %#x at %d: %w", v[i], i, ErrINIUnwritable)
	}
	if plainINI.MatchString(v) {
		return v, nil
	}
	var b strings.Builder
	b.Grow(len(v) + 2)
	for i, seg := range strings.Split(v, "'") {
		if i > 0 {
			b.WriteString(`"'"`)
		}
		if seg != "" {
			b.WriteByte('\'')
			b.WriteString(seg)
			b.WriteByte('\'')
		}
	}
	return b.String(), nil
}
