package modphp

import (
	"path"
	"strings"
)

// ModuleID is the identifier PHP 8's module registers (LoadModule
// php_module …/libphp8.2.so); SourceName the compile-time source name
// <IfModule> also accepts for it.
const (
	ModuleID   = "php_module"
	SourceName = "mod_php.c"
)

// IsGuardName reports whether an <IfModule> argument (with or without a
// leading "!") names mod_php in any of the spellings configurations use:
// mod_php.c, mod_php5.c, mod_php7.c, mod_php8.c, mod_php8.2.c, php_module,
// php5_module, php7_module, php8_module, libphp8.2.so, sapi_apache2.c.
// Only some of them match a loaded module (GuardMatches).
func IsGuardName(name string) bool {
	name = strings.TrimPrefix(name, "!")
	switch {
	case strings.HasPrefix(name, "mod_php") && strings.HasSuffix(name, ".c"):
		return strings.Trim(name[len("mod_php"):len(name)-2], "0123456789.") == ""
	case strings.HasPrefix(name, "php") && strings.HasSuffix(name, "_module"):
		return strings.Trim(name[len("php"):len(name)-len("_module")], "0123456789") == ""
	case strings.HasPrefix(name, "libphp"), name == "sapi_apache2.c":
		return true
	}
	return false
}

// Guard splits an <IfModule> argument into the module name and its
// negation ("!mod_php8.c" → "mod_php8.c", true), and reports whether the
// name is a PHP spelling (IsGuardName).
func Guard(arg string) (name string, negated, isPHP bool) {
	name, negated = strings.CutPrefix(arg, "!")
	return name, negated, IsGuardName(name)
}

// GuardMatches reports whether <IfModule name> (name without "!") is true
// on a server that loads PHP 8's mod_php: only mod_php.c and php_module
// are; mod_php8.c, php8_module, mod_php7.c, php7_module, libphp8.2.so and
// the rest never are, so <IfModule !mod_php8.c> is always true. Names
// are compared exactly, as httpd compares them.
func GuardMatches(name string) bool { return name == SourceName || name == ModuleID }

// GuardNames returns the <IfModule> names a loaded PHP module with
// identifier id answers to: the identifier and its source name
// (php_module → mod_php.c, php7_module → mod_php7.c). An empty or
// non-PHP id gives PHP 8's names.
func GuardNames(id string) map[string]bool {
	if !IsModule(id, "") {
		id = ModuleID
	}
	ver := strings.TrimSuffix(strings.TrimPrefix(id, "php"), "_module")
	return map[string]bool{id: true, "mod_php" + ver + ".c": true}
}

// IsModule reports whether a LoadModule line with identifier id and file
// path loads mod_php, any version: php_module, php7_module, or a file
// named libphp*.
func IsModule(id, file string) bool {
	if strings.HasPrefix(id, "php") && strings.HasSuffix(id, "_module") {
		if strings.Trim(strings.TrimSuffix(strings.TrimPrefix(id, "php"), "_module"), "0123456789") == "" {
			return true
		}
	}
	return file != "" && strings.Contains(path.Base(file), "libphp")
}
