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
	if plainINI.MatchString(v) {
		return v, nil
	}
	return INIQuoted(v)
}

// INIQuoted writes v like INILiteral but never bare: always as
// single-quoted raw segments (a single quote as "'", the empty value as
// ""), so that the result's meaning depends on no other rule of the INI
// scanner — what a writer of values from untrusted input (the shim's
// PHP_VALUE) wants. Values holding a newline, a carriage return or a NUL
// give ErrINIUnwritable.
func INIQuoted(v string) (string, error) {
	if v == "" {
		return `""`, nil
	}
	if i := strings.IndexAny(v, "\n\r\x00"); i >= 0 {
		return "", fmt.Errorf("byte %#x at %d: %w", v[i], i, ErrINIUnwritable)
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
