package phpini

import (
	"slices"
	"strconv"
	"strings"
)

// Mode is a directive's access mask, the "access" field of PHP's
// ini_get_all(null, true): a combination of ModeUser, ModePerDir and
// ModeSystem.
type Mode uint8

// The bits of a Mode, with the values of PHP's constants of the same name
// (Zend/zend_ini.h ZEND_INI_USER, ZEND_INI_PERDIR, ZEND_INI_SYSTEM).
const (
	// ModeUser (PHP_INI_USER) allows ini_set() in scripts and .user.ini.
	ModeUser Mode = 1
	// ModePerDir (PHP_INI_PERDIR) allows php_value/php_flag in .htaccess,
	// httpd.conf and .user.ini.
	ModePerDir Mode = 2
	// ModeSystem (PHP_INI_SYSTEM) allows php.ini, php-fpm pool config and
	// php_admin_value in httpd.conf.
	ModeSystem Mode = 4
	// ModeAll (PHP_INI_ALL) is every bit: settable anywhere.
	ModeAll = ModeUser | ModePerDir | ModeSystem
)

// entry is one row of the generated table.
type entry struct {
	name string
	mode Mode
	sapi string // "" when every SAPI registers the directive
}

// Lookup returns the access mask of the INI directive name, and false when the
// PHP build the table was generated from does not register it (a typo, or a
// directive of an extension that build did not load). Names are
// case-sensitive, as in PHP.
func Lookup(name string) (Mode, bool) {
	i, ok := slices.BinarySearchFunc(modes[:], name, compareName)
	if !ok {
		return 0, false
	}
	return modes[i].mode, true
}

// SAPI returns the name of the only PHP SAPI that registers the directive,
// "apache2handler" (mod_php: engine, last_modified, xbithack) or "fpm-fcgi"
// (cgi.fix_pathinfo, fpm.config, ...), and "" when the directive exists in
// every SAPI or is unknown. A php_flag engine off, for example, means nothing
// to php-fpm.
func SAPI(name string) string {
	i, ok := slices.BinarySearchFunc(modes[:], name, compareName)
	if !ok {
		return ""
	}
	return modes[i].sapi
}

func compareName(e entry, name string) int { return strings.Compare(e.name, name) }

// Names returns every directive name in the table, sorted.
func Names() []string {
	names := make([]string, len(modes))
	for i, e := range modes {
		names[i] = e.name
	}
	return names
}

// PerDir reports whether mod_php applies the directive from php_value or
// php_flag in .htaccess or in a <Directory> section: mod_php alters it with
// mode PHP_INI_PERDIR, which zend_alter_ini_entry_ex accepts only when the
// mask has the PHP_INI_PERDIR bit.
func (m Mode) PerDir() bool { return m&ModePerDir != 0 }

// SystemOnly reports whether the directive can be set only by php.ini, the
// php-fpm pool config or php_admin_value: mod_php ignores it in php_value and
// ini_set() fails.
func (m Mode) SystemOnly() bool { return m&ModeSystem != 0 && m&(ModeUser|ModePerDir) == 0 }

// String returns the mask in PHP's constant names: "PHP_INI_ALL" for every
// bit, otherwise the set bits joined with "|", e.g. "PHP_INI_PERDIR|PHP_INI_SYSTEM".
func (m Mode) String() string {
	if m == ModeAll {
		return "PHP_INI_ALL"
	}
	var parts []string
	if m&ModeUser != 0 {
		parts = append(parts, "PHP_INI_USER")
	}
	if m&ModePerDir != 0 {
		parts = append(parts, "PHP_INI_PERDIR")
	}
	if m&ModeSystem != 0 {
		parts = append(parts, "PHP_INI_SYSTEM")
	}
	if len(parts) == 0 || m&^ModeAll != 0 {
		return "Mode(" + strconv.Itoa(int(m)) + ")"
	}
	return strings.Join(parts, "|")
}
