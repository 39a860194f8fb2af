package shim

import (
	"errors"
	"fmt"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
)

// Setting is one INI directive and the raw string value PHP should see,
// as ini_get() returns it.
type Setting struct {
	Key   string
	Value string
}

// ErrUnencodable means a setting cannot be written into PHP_VALUE so that
// php-fpm's INI parser gives back exactly the same key and value.
var ErrUnencodable = errors.New("setting cannot be encoded safely in PHP_VALUE")

// maxPHPValue bounds the encoded PHP_VALUE. php-fpm reads each name-value
// pair from one FCGI_PARAMS record (65535 bytes with the length bytes,
// docs/behaviour.md#b-fpm-params) and resets the connection otherwise; the margin keeps
// the pair, its name and lengths inside one record.
const maxPHPValue = 65535 - len("PHP_VALUE") - 8 - 64

// EncodePHPValue renders settings as one PHP_VALUE param value, one
// key=value line each, in a form php-fpm's INI scanner reads back
// verbatim (php-src sapi/fpm/fpm/fpm_main.c runs zend_parse_ini_string in
// ZEND_INI_SCANNER_NORMAL mode over the value):
//
//   - a value is a concatenation of single-quoted raw segments; the scanner
//     does no ${VAR} expansion, no ; comments, no constant or bit-operator
//     evaluation and no On/Off/none keyword mapping inside them (docs/behaviour.md#b-fpm-ini-syntax);
//   - a single quote is written as "'", a double-quoted string holding only
//     that quote, so no $ ever appears inside double quotes (docs/behaviour.md#b-fpm-ini-syntax);
//     adjacent strings concatenate (E20);
//   - the empty value is written as "" because an empty single-quoted string
//     is rejected with "empty value for key" (E20);
//   - values holding a newline, carriage return or NUL, and keys that are not
//     plain directive names, are refused with ErrUnencodable: they could
//     start a new INI line or be cut short.
func EncodePHPValue(settings []Setting) (string, error) {
	var b strings.Builder
	for _, s := range settings {
		if err := checkKey(s.Key); err != nil {
			return "", err
		}
		b.WriteString(s.Key)
		b.WriteByte('=')
		v, err := encodeINIValue(s.Value)
		if err != nil {
			return "", fmt.Errorf("%s: %w", s.Key, err)
		}
		b.WriteString(v)
		b.WriteByte('\n')
	}
	if b.Len() > maxPHPValue {
		return "", fmt.Errorf("%d bytes, more than one FastCGI record holds: %w", b.Len(), ErrUnencodable)
	}
	return b.String(), nil
}

// checkKey accepts INI directive names as PHP registers them: letters,
// digits, '.', '_' and '-'. Anything else ('=', '[', ']', blanks, quotes)
// would change how the line parses (docs/behaviour.md#b-fpm-ini-syntax).
func checkKey(k string) error {
	if k == "" {
		return fmt.Errorf("empty key: %w", ErrUnencodable)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("key %q: %w", k, ErrUnencodable)
		}
	}
	return nil
}

// encodeINIValue writes one value as single-quoted raw segments
// (modphp.INIQuoted; never modphp.INILiteral's bare form, whose meaning
// would depend on more of the scanner than the guarantees above).
func encodeINIValue(v string) (string, error) {
	enc, err := modphp.INIQuoted(v)
	if err != nil {
		return "", fmt.Errorf("value: %w (%w)", ErrUnencodable, err)
	}
	return enc, nil
}
