package migrate

import (
	"path"
	"regexp"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/internal/phpini"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// This file is the package's only use of mod_php's semantics, all of
// which come from internal/modphp.

// phpDirective describes a php_value, php_flag, php_admin_value or
// php_admin_flag line; what each kind means is internal/modphp's answer.
type phpDirective struct {
	Flag  bool // php_flag, php_admin_flag
	Admin bool // php_admin_*: not overridable, not allowed in .htaccess
}

// kind is the modphp.Kind of d.
func (d phpDirective) kind() modphp.Kind {
	switch {
	case d.Admin && d.Flag:
		return modphp.AdminFlag
	case d.Admin:
		return modphp.AdminValue
	case d.Flag:
		return modphp.Flag
	}
	return modphp.Value
}

// phpDirectiveOf returns the kind of a mod_php directive name, and false
// for any other directive.
func phpDirectiveOf(name string) (phpDirective, bool) {
	k, ok := modphp.Directive(name)
	return phpDirective{Flag: k.IsFlag(), Admin: k.Admin()}, ok
}

// allowedInAccessFile reports whether httpd accepts the directive in a
// .htaccess file under AllowOverride Options (no AllowOverrideList).
func allowedInAccessFile(d phpDirective) bool {
	return modphp.InAccessFile(d.kind(), modphp.Override{Options: true}) == modphp.Accepted
}

// modPHPSets reports whether mod_php applies a directive of this kind to
// a key with this INI mode.
func modPHPSets(d phpDirective, mode phpini.Mode) bool { return modphp.Applies(d.kind(), mode, true) }

// turnsEngineOff reports whether a setting (as mod_php stores it) makes
// mod_php decline to run scripts.
func turnsEngineOff(key, value string) bool {
	return key == modphp.EngineKey && !modphp.Bool(value)
}

// modPHPValue is the value mod_php stores for the argument.
func modPHPValue(flag bool, v string) string {
	return modphp.Stored(phpDirective{Flag: flag}.kind(), v)
}

// isPHPGuardSection reports whether n is an <IfModule> naming mod_php in any
// spelling, and whether PHP 8's mod_php makes it true.
func isPHPGuardSection(n *parser.Node) (guard, trueForPHP8 bool) {
	if n.Kind != parser.KindSection || !strings.EqualFold(n.Name, "IfModule") || len(n.Args) != 1 {
		return false, false
	}
	name, neg, isPHP := modphp.Guard(n.Args[0])
	if !isPHP {
		return false, false
	}
	return true, modphp.GuardMatches(name) != neg
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
// configuration file (read also when the module is no longer enabled),
// handlers the tree's SetHandler, AddHandler and AddType lines
// (treeLines), of which those in effect count.
func phpFilesPatterns(handlers []*parser.Node, modConf *parser.File) []string {
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
		switch parser.LowerName(n.Name) {
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
	for _, n := range handlers {
		if parser.InEffect(n) {
			visit(n)
		}
	}
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
