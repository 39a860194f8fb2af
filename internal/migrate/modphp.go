package migrate

import (
	"path"
	"regexp"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/phpini"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// This file is the package's only statement of mod_php's semantics.

// phpDirective describes a php_value, php_flag, php_admin_value or
// php_admin_flag line.
type phpDirective struct {
	Flag  bool // php_flag, php_admin_flag
	Admin bool // php_admin_*: not overridable, not allowed in .htaccess
}

// phpDirectiveOf returns the kind of a mod_php directive name, and false
// for any other directive.
func phpDirectiveOf(name string) (phpDirective, bool) {
	switch strings.ToLower(name) {
	case "php_value":
		return phpDirective{}, true
	case "php_flag":
		return phpDirective{Flag: true}, true
	case "php_admin_value":
		return phpDirective{Admin: true}, true
	case "php_admin_flag":
		return phpDirective{Flag: true, Admin: true}, true
	}
	return phpDirective{}, false
}

// allowedInAccessFile reports whether httpd accepts the directive in a
// .htaccess file: php_admin_* are RSRC_CONF|ACCESS_CONF only, so a
// .htaccess holding one answers 500 ("not allowed here").
func allowedInAccessFile(d phpDirective) bool { return !d.Admin }

// modPHPSets reports whether mod_php applies a directive of this kind to
// a key with this INI mode: php_value/php_flag alter it at PHP_INI_PERDIR,
// php_admin_* at PHP_INI_SYSTEM, and PHP refuses a change the key's mask
// does not allow (Zend/zend_ini.c zend_alter_ini_entry_ex).
func modPHPSets(d phpDirective, mode phpini.Mode) bool {
	if d.Admin {
		return mode&phpini.ModeSystem != 0
	}
	return mode.PerDir()
}

// turnsEngineOff reports whether a setting (as mod_php stores it) makes
// mod_php decline to run scripts: the engine key set to 0.
func turnsEngineOff(key, value string) bool { return strings.EqualFold(key, "engine") && value == "0" }

// modPHPValue is the value mod_php stores: php_flag keeps "1" for "On" in
// any case or exactly "1", and "0" for anything else; php_value stores ""
// for "none" in any case and the string as written otherwise
// (sapi/apache2handler/apache_config.c php_apache_value_handler_ex).
func modPHPValue(flag bool, v string) string {
	if flag {
		if strings.EqualFold(v, "on") || v == "1" {
			return "1"
		}
		return "0"
	}
	if strings.EqualFold(v, "none") {
		return ""
	}
	return v
}

// isPHPGuardSection reports whether n is an <IfModule> naming mod_php in any
// spelling, and whether PHP 8's mod_php makes it true.
func isPHPGuardSection(n *parser.Node) (guard, trueForPHP8 bool) {
	if n.Kind != parser.KindSection || !strings.EqualFold(n.Name, "IfModule") || len(n.Args) != 1 {
		return false, false
	}
	arg, neg := strings.CutPrefix(n.Args[0], "!")
	if !parser.IsPHPGuard(arg) {
		return false, false
	}
	return true, parser.PHP8Guard(arg) != neg
}

// appliedByModPHP reports whether httpd with PHP 8's mod_php loaded reads
// n: every conditional section around it holds in the loaded view, except
// PHP-module guards, which are judged as PHP 8 answers them (so a server
// that has already switched is read as it was). dead is the first section
// that makes it false.
func appliedByModPHP(n *parser.Node) (ok bool, dead *parser.Node) {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Kind != parser.KindSection || !parser.IsConditional(p) {
			continue
		}
		if guard, t := isPHPGuardSection(p); guard {
			if !t {
				return false, p
			}
			continue
		}
		if !p.Active {
			return false, p
		}
	}
	return true, nil
}

// guardedForModPHP reports whether n is inside an <IfModule> that is true
// exactly with PHP 8's mod_php (so php-fpm's Apache skips it).
func guardedForModPHP(n *parser.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if guard, t := isPHPGuardSection(p); guard && t {
			return true
		}
	}
	return false
}

// phpHandlerTypes are the handler names mod_php executes.
var phpHandlerTypes = map[string]bool{"application/x-httpd-php": true, "php-script": true}

// defaultPHPFiles is Debian's php8.2.conf pattern, used when the tree no
// longer shows mod_php's handler (a server that has switched).
const defaultPHPFiles = `.+\.ph(?:ar|p|tml)$`

// phpFilesPatterns returns the <FilesMatch> patterns whose SetHandler runs
// mod_php, and the extensions AddHandler/AddType give it, as one list of
// regular expressions for file names; modConf is mod_php's own
// configuration file (read also when the module is no longer enabled).
func phpFilesPatterns(cfg *parser.Config, modConf *parser.File) []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	visit := func(n *parser.Node) bool {
		if n.Kind != parser.KindDirective || len(n.Args) == 0 {
			return true
		}
		switch strings.ToLower(n.Name) {
		case "sethandler":
			if !phpHandlerTypes[strings.ToLower(n.Args[0])] {
				return true
			}
			if fm := parser.Enclosing(n, "filesmatch"); fm != nil && len(fm.Args) == 1 {
				add(fm.Args[0])
			}
		case "addhandler", "addtype":
			if !phpHandlerTypes[strings.ToLower(n.Args[0])] {
				return true
			}
			for _, ext := range n.Args[1:] {
				add(`\.` + regexp.QuoteMeta(strings.TrimPrefix(strings.ToLower(ext), ".")) + `$`)
			}
		}
		return true
	}
	if modConf != nil {
		parser.Walk(modConf.Nodes, false, visit)
	}
	cfg.Walk(visit)
	if len(out) == 0 {
		out = append(out, defaultPHPFiles)
	}
	return out
}

// isPHPModuleFile reports whether a mods-enabled file name belongs to
// mod_php (php8.2.load, php7.4.conf, …).
func isPHPModuleFile(base string) bool {
	name := strings.TrimSuffix(strings.TrimSuffix(base, ".load"), ".conf")
	v, ok := strings.CutPrefix(name, "php")
	return ok && v != "" && strings.Trim(v, "0123456789.") == ""
}

// modPHPConf returns mod_php's own configuration file (Debian's
// mods-available/phpX.Y.conf, the highest version when several are
// there), with its path as a server path under mods-available, read with
// read(server path) → bytes; nil when there is none.
func modPHPConf(cfg *parser.Config, confDir string, read func(string) ([]byte, bool), list func(string) []string) *parser.File {
	dir := path.Join(confDir, "mods-available")
	name := ""
	for _, f := range cfg.Files {
		if b := path.Base(f.Path); isPHPModuleFile(b) && strings.HasSuffix(b, ".conf") {
			name = b
		}
	}
	if name == "" {
		for _, b := range list(dir) {
			if isPHPModuleFile(b) && strings.HasSuffix(b, ".conf") && (name == "" || parser.CompareVersions(b, name) > 0) {
				name = b
			}
		}
	}
	if name == "" {
		return nil
	}
	data, ok := read(path.Join(dir, name))
	if !ok {
		return nil
	}
	f, _ := parser.Parse(path.Join(dir, name), data, false)
	return f
}
