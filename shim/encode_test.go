package shim

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// iniModel parses what EncodePHPValue emits with the rules of php-src
// Zend/zend_ini_scanner.l (ZEND_INI_SCANNER_NORMAL) for the only forms the
// encoder uses: key=value lines whose value is a concatenation of
// single-quoted raw strings ('[^']*' is TC_RAW, taken verbatim), the
// double-quoted string "'" and the empty "". Anything else is an error,
// so the fuzz target fails if the encoder ever emits a form whose meaning
// depends on more of the scanner (bare words, ${}, ;, constants).
func iniModel(s string) ([]Setting, error) {
	if s == "" {
		return nil, nil
	}
	if !strings.HasSuffix(s, "\n") {
		return nil, errors.New("missing final newline")
	}
	var out []Setting
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || checkKey(k) != nil {
			return nil, fmt.Errorf("bad key in %q", line)
		}
		var b strings.Builder
		for v != "" {
			switch {
			case strings.HasPrefix(v, `""`):
				v = v[2:]
			case strings.HasPrefix(v, `"'"`):
				b.WriteByte('\'')
				v = v[3:]
			case v[0] == '\'':
				end := strings.IndexByte(v[1:], '\'')
				if end <= 0 {
					// '' is rejected by php-fpm ("empty value", docs/behaviour.md#b-fpm-ini-syntax).
					return nil, fmt.Errorf("unterminated or empty raw string in %q", line)
				}
				b.WriteString(v[1 : 1+end])
				v = v[2+end:]
			default:
				return nil, fmt.Errorf("unexpected %q in %q", v, line)
			}
		}
		out = append(out, Setting{Key: k, Value: b.String()})
	}
	return out, nil
}

// TestEncodePHPValue covers every value of docs/behaviour.md#b-modphp-values (as mod_php stores it) and §4 E19/E20 (what php-fpm's scanner
// would make of naive encodings): the encoded form is exact, and the
// model scanner gives the value back.
func TestEncodePHPValue(t *testing.T) {
	for _, tc := range []struct {
		name, key, value, want string
	}{
		{"spaces (q1 \"a b c\")", "user_agent", "a b c", `user_agent='a b c'`},
		{"single-quoted source (q2)", "user_agent", "single q", `user_agent='single q'`},
		{"none becomes empty (q3)", "session.name", "", `session.name=""`},
		{"semicolon is no comment (q4, E12)", "user_agent", "semi;colon", `user_agent='semi;colon'`},
		{"expanded ${HOME} stays literal (q5)", "user_agent", "/root", `user_agent='/root'`},
		{"${VAR} is never expanded (E19)", "user_agent", "${HOME}", `user_agent='${HOME}'`},
		{"quotes (q6, E19)", "user_agent", `it's "dq"`, `user_agent='it'"'"'s "dq"'`},
		{"flag off/yes/true stored as 0", "display_errors", "0", `display_errors='0'`},
		{"flag on stored as 1", "display_errors", "1", `display_errors='1'`},
		{"stderr", "display_errors", "stderr", `display_errors='stderr'`},
		{"constants not evaluated (E19)", "error_reporting", "E_ALL & ~E_NOTICE", `error_reporting='E_ALL & ~E_NOTICE'`},
		{"number", "error_reporting", "32759", `error_reporting='32759'`},
		{"minus one", "memory_limit", "-1", `memory_limit='-1'`},
		{"true is no keyword (E19)", "user_agent", "true", `user_agent='true'`},
		{"on is no keyword (E20)", "user_agent", "on", `user_agent='on'`},
		{"none literal via raw (E20)", "user_agent", "none", `user_agent='none'`},
		{"a=b (E19)", "user_agent", "a=b", `user_agent='a=b'`},
		{"operators (E19)", "user_agent", "!x", `user_agent='!x'`},
		{"pipe (E19)", "user_agent", "a|b", `user_agent='a|b'`},
		{"tilde (E19)", "user_agent", "~x", `user_agent='~x'`},
		{"braces (E19)", "user_agent", "a{b}c", `user_agent='a{b}c'`},
		{"two quoted strings (E19)", "user_agent", `"x" "y"`, `user_agent='"x" "y"'`},
		{"backslashes (E20)", "user_agent", `C:\path\to`, `user_agent='C:\path\to'`},
		{"literal backslash-n (E20)", "user_agent", `it's "dq" ${HOME} \n ; x`, `user_agent='it'"'"'s "dq" ${HOME} \n ; x'`},
		{"only a quote", "user_agent", "'", `user_agent="'"`},
		{"leading and trailing quotes", "user_agent", "'x'", `user_agent="'"'x'"'"`},
		{"double quote alone", "user_agent", `"`, `user_agent='"'`},
		{"dollar", "error_log", "/x/${HTTP_X_TEST}", `error_log='/x/${HTTP_X_TEST}'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodePHPValue([]Setting{{tc.key, tc.value}})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want+"\n" {
				t.Errorf("EncodePHPValue(%q=%q) = %q, want %q", tc.key, tc.value, got, tc.want+"\n")
			}
			back, err := iniModel(got)
			if err != nil {
				t.Fatal(err)
			}
			if len(back) != 1 || back[0] != (Setting{tc.key, tc.value}) {
				t.Errorf("re-parsed %q as %q", got, back)
			}
		})
	}
}

// TestEncodePHPValueRefuses: what would start a new INI line or cut the
// value short (docs/behaviour.md#b-env-to-fpm, #b-fpm-ini-syntax), and keys that would change
// how the line parses.
func TestEncodePHPValueRefuses(t *testing.T) {
	for _, s := range []Setting{
		{"memory_limit", "41M\ndisplay_errors=1"},
		{"memory_limit", "41M\r\ndisplay_errors=1"},
		{"user_agent", "a\x00b"},
		{"", "x"},
		{"memory_limit 48M", "x"},
		{"a[]", "x"},
		{"a=b", "x"},
		{"[sect]", "x"},
		{"k'", "x"},
		{"user_agent", strings.Repeat("x", 70000)},
	} {
		if got, err := EncodePHPValue([]Setting{s}); !errors.Is(err, ErrUnencodable) {
			t.Errorf("EncodePHPValue(%q) = %q, %v; want ErrUnencodable", s, got, err)
		}
	}
}

func TestEncodePHPValueSeveral(t *testing.T) {
	got, err := EncodePHPValue([]Setting{{"display_errors", "1"}, {"memory_limit", "77M"}, {"session.name", ""}})
	if err != nil {
		t.Fatal(err)
	}
	want := "display_errors='1'\nmemory_limit='77M'\nsession.name=\"\"\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
