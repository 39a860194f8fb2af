package rules

import (
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
	"strconv"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// httpdVersionFeatures is MPM2011: php-fpm features used where an older
// httpd may read them.
var httpdVersionFeatures = register(&Rule{
	Code:       "MPM2011",
	Title:      "php-fpm feature too new for the httpd version",
	Severity:   Error,
	Directives: []string{"SetHandler", "CGIPassAuth", "ProxyFCGISetEnvIf", "ProxyPass", "ProxyPassMatch"},
	Doc: Doc{
		Text: `Finds the mod_proxy_fcgi features a php-fpm setup relies on, used where the httpd reading them may be too old: inside ` + "`<IfVersion>`" + ` sections that admit older versions, or anywhere when ` + "`--httpd-version`" + ` names an older httpd.

| feature | since |
|---|---|
| ` + "`SetHandler \"proxy:…\"`" + ` (a handler to a proxy backend) | 2.4.10 |
| Unix sockets for mod_proxy_fcgi (` + "`proxy:unix:/run/php/…sock\\|fcgi://…`" + `) | 2.4.9 |
| ` + "`CGIPassAuth`" + ` | 2.4.13 |
| ` + "`ProxyFCGISetEnvIf`" + ` | 2.4.26 |

An older httpd refuses the unknown directive (` + "`Invalid command 'CGIPassAuth'`" + `) and does not start, or — for ` + "`SetHandler \"proxy:…\"`" + ` — accepts the handler name and serves the PHP files as they are. Enterprise distributions shipped 2.4.6 (RHEL/CentOS 7) for years, so this is not theoretical. A block that only an older httpd reads (` + "`<IfVersion < 2.4.10>`" + `) is an error; one that also admits older versions (` + "`<IfVersion >= 2.4>`" + `) a warning. Without ` + "`--httpd-version`" + ` nothing outside ` + "`<IfVersion>`" + ` is reported.`,
		Before: "<IfVersion >= 2.4>\n    <FilesMatch \"\\.php$\">\n        SetHandler \"proxy:unix:/run/php/php-fpm.sock|fcgi://localhost\"\n    </FilesMatch>\n</IfVersion>\n",
		After:  "<IfVersion >= 2.4.10>\n    <FilesMatch \"\\.php$\">\n        SetHandler \"proxy:unix:/run/php/php-fpm.sock|fcgi://localhost\"\n    </FilesMatch>\n</IfVersion>\n",
		Since:  "0.1.0",
	},
	Run: runHTTPDVersionFeatures,
})

// versionFeature is one feature and the httpd version it appeared in.
type versionFeature struct {
	what, since string
}

// featuresOf returns the version-gated features n uses.
func featuresOf(n *parser.Node) []versionFeature {
	var out []versionFeature
	switch parser.LowerName(n.Name) {
	case "cgipassauth":
		out = append(out, versionFeature{"CGIPassAuth", "2.4.13"})
	case "proxyfcgisetenvif":
		out = append(out, versionFeature{"ProxyFCGISetEnvIf", "2.4.26"})
	case "sethandler":
		v := strings.ToLower(conf1Arg(n, 0))
		if strings.HasPrefix(v, "proxy:") {
			out = append(out, versionFeature{"SetHandler \"proxy:…\"", "2.4.10"})
			if strings.HasPrefix(v, "proxy:unix:") && strings.Contains(v, "fcgi://") {
				out = append(out, versionFeature{"Unix sockets in mod_proxy_fcgi", "2.4.9"})
			}
		}
	case "proxypass", "proxypassmatch":
		for _, a := range n.Args {
			if l := strings.ToLower(a); strings.HasPrefix(l, "unix:") && strings.Contains(l, "fcgi://") {
				out = append(out, versionFeature{"Unix sockets in mod_proxy_fcgi", "2.4.9"})
				break
			}
		}
	}
	return out
}

func conf1Arg(n *parser.Node, i int) string {
	if i < len(n.Args) {
		return n.Args[i]
	}
	return ""
}

// versionCond is one <IfVersion> condition: [!]op version.
type versionCond struct {
	neg     bool
	op, ver string
	node    *parser.Node
}

func (c versionCond) holds(v string) bool {
	ok, known := parser.VersionCompare(c.op, v, c.ver)
	if !known {
		return true // regex forms: not evaluated
	}
	return ok != c.neg
}

// versionConds returns the <IfVersion> conditions around n (regex forms
// left out).
func versionConds(n *parser.Node) []versionCond {
	var out []versionCond
	for s := n.Parent; s != nil; s = s.Parent {
		if s.Kind != parser.KindSection || !strings.EqualFold(s.Name, "IfVersion") || len(s.Args) == 0 {
			continue
		}
		c := versionCond{op: "=", node: s}
		args := s.Args
		if len(args) == 2 {
			c.op = args[0]
			args = args[1:]
		}
		if strings.HasPrefix(c.op, "!") {
			c.neg, c.op = true, c.op[1:]
		}
		c.ver = args[0]
		if c.op == "~" || strings.HasPrefix(c.ver, "/") || c.ver == "" || c.ver[0] < '0' || c.ver[0] > '9' {
			continue
		}
		out = append(out, c)
	}
	return out
}

// olderCandidates are versions below since to try against the conditions.
func olderCandidates(since string, conds []versionCond) []string {
	out := []string{"2.0.0", "2.2.0", "2.2.34", "2.4.0"}
	parts := strings.Split(since, ".")
	if len(parts) == 3 && parts[0] == "2" && parts[1] == "4" {
		p, _ := strconv.Atoi(parts[2])
		for i := 1; i < p; i++ {
			out = append(out, "2.4."+strconv.Itoa(i))
		}
	}
	for _, c := range conds {
		out = append(out, c.ver)
	}
	return out
}

func runHTTPDVersionFeatures(p *Pass) {
	given := p.Options.HTTPDVersion
	for _, e := range p.facts.Index().Named("SetHandler", "CGIPassAuth", "ProxyFCGISetEnvIf", "ProxyPass", "ProxyPassMatch") {
		n := e.Node
		if n.Kind != parser.KindDirective || !(e.InToday || e.InAfter) {
			continue
		}
		for _, f := range featuresOf(n) {
			conds := versionConds(n)
			if given != "" && parser.CompareVersions(given, f.since) < 0 && allHold(conds, given) && (e.Today || e.After || len(conds) > 0) {
				p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Severity: Error, Related: includeChain(n),
					Message: f.what + " needs httpd " + f.since + " or later, and --httpd-version is " + given + ": upgrade httpd first, or keep this out of that server's configuration"})
				continue
			}
			if len(conds) == 0 {
				continue
			}
			older, newer := "", false
			for _, v := range olderCandidates(f.since, conds) {
				if parser.CompareVersions(v, f.since) < 0 && allHold(conds, v) && (older == "" || parser.CompareVersions(v, older) > 0) {
					older = v
				}
			}
			for _, v := range []string{f.since, "2.4.99", "2.5.0", "3.0.0"} {
				if allHold(conds, v) {
					newer = true
					break
				}
			}
			if older == "" {
				continue
			}
			c := conds[0]
			rel := []Related{{Pos: c.node.Pos, Message: "<IfVersion " + strings.Join(c.node.Args, " ") + ">"}}
			guard := "<IfVersion " + strings.Join(c.node.Args, " ") + "> at " + facts.ShortPos(c.node.Pos)
			if newer {
				p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Severity: Warning, Related: append(rel, includeChain(n)...),
					Message: f.what + " needs httpd " + f.since + " or later, but " + guard + " also admits older versions (e.g. " + older + "), which refuse or ignore it: narrow the condition to >= " + f.since})
			} else {
				p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Severity: Error, Related: append(rel, includeChain(n)...),
					Message: f.what + " needs httpd " + f.since + " or later, but " + guard + " is read only by older versions: on those it fails; use a setup that version has, or drop the block"})
			}
		}
	}
}

func allHold(conds []versionCond, v string) bool {
	for _, c := range conds {
		if !c.holds(v) {
			return false
		}
	}
	return true
}
