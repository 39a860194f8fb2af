package parser

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
)

// condition evaluates a read-time conditional section.
func (l *loader) condition(lname string, n *Node) bool {
	if lname == "ifversion" {
		return l.ifVersion(n)
	}
	if len(n.Args) != 1 {
		l.diag(n.Pos, SevError, "syntax", "<%s> takes one argument", n.Name)
		return false
	}
	arg := n.Args[0]
	neg := strings.HasPrefix(arg, "!")
	if neg {
		arg = arg[1:]
	}
	var ok bool
	switch lname {
	case "ifmodule":
		ok = l.modules[arg]
		if l.assumeModules {
			ok = !modphp.IsGuardName(arg) || (l.cfg.View == Today && modphp.GuardMatches(arg))
		}
	case "ifdefine":
		ok = l.defined[arg]
	case "iffile":
		ok = l.exists(l.serverRootRelative(arg))
	case "ifdirective":
		ok = l.knownDirective(strings.ToLower(arg))
	case "ifsection":
		ok = l.knownDirective("<" + strings.ToLower(arg))
	}
	return ok != neg
}

// ifVersion implements mod_version: [[!]op] version, op one of = == > >=
// < <= (numeric on major[.minor[.patch]]) or ~ and = /re/ (regex).
func (l *loader) ifVersion(n *Node) bool {
	args := n.Args
	op, ver := "=", ""
	switch len(args) {
	case 1:
		ver = args[0]
	case 2:
		op, ver = args[0], args[1]
	default:
		l.diag(n.Pos, SevError, "syntax", "<IfVersion> takes one or two arguments")
		return false
	}
	neg := strings.HasPrefix(op, "!")
	if neg {
		op = op[1:]
		if op == "" {
			op = "="
		}
	}
	cur := l.opt.Version
	var ok bool
	switch {
	case op == "~" || (op == "=" || op == "==") && len(ver) > 1 && ver[0] == '/' && ver[len(ver)-1] == '/':
		re := ver
		if op != "~" {
			re = ver[1 : len(ver)-1]
		}
		rx, err := regexp.Compile(re)
		if err != nil {
			l.diag(n.Pos, SevError, "syntax", "<IfVersion>: bad regular expression %q: %v", re, err)
			return false
		}
		ok = rx.MatchString(cur)
	default:
		var known bool
		if ok, known = VersionCompare(op, cur, ver); !known {
			l.diag(n.Pos, SevError, "syntax", "<IfVersion>: unknown operator %q", op)
			return false
		}
	}
	return ok != neg
}

// VersionCompare evaluates mod_version's numeric operators (=, ==, >, >=,
// <, <=) as "current op ver"; known is false for any other operator.
func VersionCompare(op, current, ver string) (ok, known bool) {
	c := CompareVersions(current, ver)
	switch op {
	case "=", "==":
		return c == 0, true
	case ">":
		return c > 0, true
	case ">=":
		return c >= 0, true
	case "<":
		return c < 0, true
	case "<=":
		return c <= 0, true
	}
	return false, false
}

// CompareVersions compares dotted numeric versions ("2.4.10", "8.2")
// part by part: missing parts are 0, and a part's leading digits are its
// value (mod_version reads major.minor.patch the same way). It returns -1,
// 0 or 1.
func CompareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		x, y := versionPart(pa, i), versionPart(pb, i)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionPart(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	p := parts[i]
	end := 0
	for end < len(p) && p[end] >= '0' && p[end] <= '9' {
		end++
	}
	n, _ := strconv.Atoi(p[:end])
	return n
}

// knownDirective reports whether a directive (or "<section") is registered
// by the core or by a loaded module, for <IfDirective>/<IfSection>.
func (l *loader) knownDirective(lname string) bool {
	mod, ok := directiveModules[lname]
	if !ok {
		return false
	}
	return mod == "" || l.modules[mod]
}

// directiveModules maps lower-case directive names (sections with '<') to
// the module registering them ("" = core, always present).
var directiveModules = map[string]string{
	"<directory>": "", "<directorymatch>": "", "<files>": "", "<filesmatch>": "", "<location>": "",
	"<locationmatch>": "", "<virtualhost>": "", "<ifmodule>": "", "<ifdefine>": "", "<iffile>": "",
	"<ifdirective>": "", "<ifsection>": "", "<if>": "", "<elseif>": "", "<else>": "", "<limit>": "",
	"<limitexcept>": "", "<ifversion>": "version_module", "<proxy>": "proxy_module", "<proxymatch>": "proxy_module",
	"<macro>": "macro_module", "<requireall>": "authz_core_module", "<requireany>": "authz_core_module",
	"<requirenone>": "authz_core_module",
	"acceptfilter":  "", "acceptpathinfo": "", "accessfilename": "", "adddefaultcharset": "", "allowencodedslashes": "",
	"allowoverride": "", "allowoverridelist": "", "cgipassauth": "", "cgivar": "", "define": "", "documentroot": "",
	"errordocument": "", "errorlog": "", "filetrace": "", "include": "", "includeoptional": "", "keepalive": "",
	"loglevel": "", "options": "", "protocols": "", "servername": "", "serveralias": "", "serverroot": "",
	"serveradmin": "", "sethandler": "", "setinputfilter": "", "setoutputfilter": "", "timeout": "",
	"undefine": "", "user": "unixd_module", "group": "unixd_module", "loadmodule": "so_module", "loadfile": "so_module",
	"phpinidir": modphp.ModuleID, "rewriteengine": "rewrite_module", "rewriterule": "rewrite_module",
	"rewritecond": "rewrite_module", "proxypass": "proxy_module", "proxypassmatch": "proxy_module",
	"proxytimeout": "proxy_module", "proxyfcgisetenvif": "proxy_fcgi_module", "proxyfcgibackendtype": "proxy_fcgi_module",
	"setenv": "env_module", "unsetenv": "env_module", "passenv": "env_module", "setenvif": "setenvif_module",
	"setenvifnocase": "setenvif_module", "header": "headers_module", "requestheader": "headers_module",
	"directoryindex": "dir_module", "fallbackresource": "dir_module", "alias": "alias_module",
	"aliasmatch": "alias_module", "scriptalias": "alias_module", "redirect": "alias_module",
	"addhandler": "mime_module", "addtype": "mime_module", "require": "authz_core_module",
	"sslengine": "ssl_module", "fcgidwrapper": "fcgid_module",
	"fastcgiserver": "fastcgi_module", "suexecusergroup": "suexec_module",
}

func init() {
	// mod_php's directives come from internal/modphp.
	for _, k := range modphp.Directives() {
		directiveModules[k.String()] = modphp.ModuleID
	}
}
