package modphp

import (
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/phpini"
)

// Kind is one of the four directives mod_php adds to httpd (php-src
// sapi/apache2handler/apache_config.c, php_dir_cmds).
type Kind uint8

// The directives, in php_dir_cmds order. The zero Kind is no directive.
const (
	Value      Kind = iota + 1 // php_value
	Flag                       // php_flag
	AdminValue                 // php_admin_value
	AdminFlag                  // php_admin_flag
)

var kindNames = [...]string{"", "php_value", "php_flag", "php_admin_value", "php_admin_flag"}

// arityHelp is the cmd_rec help text httpd appends to "takes two
// arguments" (TAKE2).
var arityHelp = [...]string{"", "PHP Value Modifier", "PHP Flag Modifier", "PHP Value Modifier (Admin)", "PHP Flag Modifier (Admin)"}

// Directives returns the four directives, in php_dir_cmds order.
func Directives() []Kind { return []Kind{Value, Flag, AdminValue, AdminFlag} }

// Directive returns the kind of a directive name, compared
// case-insensitively as httpd compares directive names; ok is false for
// any other name.
func Directive(name string) (k Kind, ok bool) {
	for i := Value; i <= AdminFlag; i++ {
		if strings.EqualFold(name, kindNames[i]) {
			return i, true
		}
	}
	return 0, false
}

// String returns the directive's name in lower case ("php_admin_flag").
func (k Kind) String() string {
	if k > AdminFlag {
		return ""
	}
	return kindNames[k]
}

// Admin reports whether the directive is php_admin_value or
// php_admin_flag: its value is set with PHP_INI_SYSTEM status, so neither
// a deeper directory, a .htaccess nor ini_set() can change it.
func (k Kind) Admin() bool { return k == AdminValue || k == AdminFlag }

// IsFlag reports whether the directive is php_flag or php_admin_flag,
// whose argument mod_php turns into "1" or "0" (see Stored).
func (k Kind) IsFlag() bool { return k == Flag || k == AdminFlag }

// Status is the modify type mod_php passes to zend_alter_ini_entry for the
// directive: PHP_INI_SYSTEM for the admin forms, PHP_INI_PERDIR otherwise.
// The setting applies only when the INI directive's modifiable mask has
// that bit (Applies).
func (k Kind) Status() phpini.Mode {
	if k.Admin() {
		return phpini.ModeSystem
	}
	return phpini.ModePerDir
}

// ArityError is httpd's message for a directive without exactly two
// arguments: "php_value takes two arguments, PHP Value Modifier".
func (k Kind) ArityError() string {
	return k.String() + " takes two arguments, " + arityHelp[k]
}

// NotAllowedError is httpd's message when the directive appears where its
// override class is not granted: "php_admin_value not allowed here".
// name is the directive as written in the file.
func NotAllowedError(name string) string { return name + " not allowed here" }

// Stored is the value mod_php stores for the directive's second argument,
// which is what ini_get() returns when the setting applies:
//
//   - php_flag and php_admin_flag store "1" for "on" in any case or
//     exactly "1", and "0" for anything else — "yes" and "true" are off
//     (real_flag_hnd);
//   - php_value and php_admin_value store "" for "none" in any case and
//     the argument unchanged otherwise: no INI parsing, no constants, no
//     quotes removed beyond httpd's own argument quoting (real_value_hnd).
func Stored(k Kind, arg string) string {
	if k.IsFlag() {
		if strings.EqualFold(arg, "on") || arg == "1" {
			return "1"
		}
		return "0"
	}
	if strings.EqualFold(arg, "none") {
		return ""
	}
	return arg
}

// Applies reports whether mod_php's setting takes effect for a known INI
// directive whose modifiable mask is mode. php_value and php_flag need
// PHP_INI_PERDIR in the mask: zend_alter_ini_entry refuses other keys
// silently (php_value expose_php is ignored, no log line).
// php_admin_value and php_admin_flag set any known directive, also one
// whose mask lacks PHP_INI_SYSTEM (session.upload_progress.name): at
// activation a PHP_INI_SYSTEM change first makes the entry SYSTEM-only.
// Unknown directives (known false) never apply.
func Applies(k Kind, mode phpini.Mode, known bool) bool {
	if k.Admin() {
		return known
	}
	return known && mode&phpini.ModePerDir != 0
}

// AppliesInAccessFile is Applies for a line read from an access file —
// php_admin_* gets there only through AllowOverrideList. mod_php sets
// such lines at PHP_INI_STAGE_HTACCESS, where no change makes an entry
// SYSTEM-only first, so every kind needs its own status in the mask:
// php_admin_value session.upload_progress.name, which applies from
// <Directory>, is dropped from a .htaccess.
func AppliesInAccessFile(k Kind, mode phpini.Mode, known bool) bool {
	return known && mode&k.Status() != 0
}

// Overrides reports whether a setting from a deeper scope (inner: a
// subdirectory, a .htaccess, a <Files> section) replaces the value of the
// same key set in an enclosing scope (outer), as php_merge_dir does: the
// inner value wins unless the outer one has the higher status — a
// php_admin_* value cannot be replaced by php_value.
func Overrides(outer, inner Kind) bool { return outer.Status() <= inner.Status() }

// Bool reads a stored value as PHP reads a boolean INI setting
// (zend_ini_parse_bool): "true", "yes" and "on" in any case are true,
// anything else is true when C's atoi gives a non-zero number.
func Bool(v string) bool {
	switch strings.ToLower(v) {
	case "true", "yes", "on":
		return true
	}
	return atoi(v) != 0
}

// atoi is C's atoi: leading blanks, an optional sign, then digits; 0 when
// there are none.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
		if n > 1<<30 {
			break
		}
	}
	if neg {
		return -n
	}
	return n
}

// EngineKey is the INI directive that switches PHP off in mod_php: with
// engine false, httpd sends the script's source as it is. It exists only
// in apache2handler; php-fpm has no such setting and refuses it through
// PHP_ADMIN_VALUE.
const EngineKey = "engine"

// EngineOff reports whether the directive k with arguments key and arg
// turns the engine off: its stored value read as a boolean is false
// (php_flag engine yes is off; php_value engine foo is off too).
func EngineOff(k Kind, key, arg string) bool {
	return key == EngineKey && !Bool(Stored(k, arg))
}
