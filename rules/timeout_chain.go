package rules

import (
	"strconv"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
)

// timeoutChain is MPM2005: PHP's, php-fpm's and Apache's time limits in
// the wrong order.
var timeoutChain = register(&Rule{
	Code:       "MPM2005",
	Title:      "timeouts in the wrong order",
	Severity:   Warning,
	Directives: []string{"php_value", "php_admin_value", "ProxySet", "ProxyTimeout", "Timeout", "FcgidIOTimeout", "IOTimeout", "FastCgiExternalServer"},
	Doc: Doc{
		Text: `Checks that the time limits of a PHP request nest: PHP's ` + "`max_execution_time`" + ` (php.ini, the pool's ` + "`php_value`" + `, or a ` + "`php_value`" + ` in Apache) below the pool's ` + "`request_terminate_timeout`" + `, below what Apache waits for the backend (` + "`ProxySet timeout=`" + ` for the backend, else ` + "`ProxyTimeout`" + `, else ` + "`Timeout`" + `, default 60 s; ` + "`FcgidIOTimeout`" + ` for mod_fcgid, default 40 s; ` + "`FastCgiExternalServer -idle-timeout`" + `, default 30 s).

Under mod_php none of this existed: PHP ran inside Apache and only ` + "`max_execution_time`" + ` counted. Behind php-fpm each layer gives up on its own: when Apache's limit is the shortest, the client gets 504 Gateway Timeout (` + "`AH01075`" + `) while the script keeps running — and a retrying client starts it again; when ` + "`request_terminate_timeout`" + ` comes before ` + "`max_execution_time`" + `, php-fpm kills the worker (` + "`execution timed out … terminating`" + `) instead of PHP ending the script with its own error and shutdown functions. A long import or report that worked under mod_php starts failing this way. Each finding names both limits with their positions.`,
		Before: "; pool.d/site.conf\nphp_admin_value[max_execution_time] = 300\n\n# vhost\nTimeout 60\n",
		After:  "; pool.d/site.conf\nphp_admin_value[max_execution_time] = 300\nrequest_terminate_timeout = 330\n\n# vhost\nProxyTimeout 360\n",
		Since:  "0.1.0",
	},
	Run: runTimeoutChain,
})

// timeLimit is one time limit with where it is set (Pos.Line 0: a default).
type timeLimit struct {
	secs int
	what string
	pos  parser.Pos
}

func (l timeLimit) describe() string {
	if l.pos.Line == 0 {
		return l.what + " " + strconv.Itoa(l.secs) + " s (the default)"
	}
	return l.what + " " + strconv.Itoa(l.secs) + " s (" + facts.ShortPos(l.pos) + ")"
}

func (l timeLimit) related() []Related {
	if l.pos.Line == 0 {
		return nil
	}
	return []Related{{Pos: l.pos, Message: l.what + " " + strconv.Itoa(l.secs) + " s"}}
}

// phpLimit returns a pool's max_execution_time (the pool, else php.ini,
// else PHP's default 30 s when php.ini is known), ok false when unlimited
// or unknown.
func phpLimit(ini *fpmconf.INI, pl *fpmconf.Pool) (timeLimit, bool) {
	if v, ok := pl.Values()["max_execution_time"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v.Value))
		return timeLimit{n, "max_execution_time of pool " + pl.Name, v.Pos}, err == nil && n > 0
	}
	if ini != nil {
		if s, ok := ini.Settings["max_execution_time"]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(s.Value))
			return timeLimit{n, "max_execution_time", s.Pos}, err == nil && n > 0
		}
	}
	if ini == nil {
		return timeLimit{}, false // php.ini not known: cannot tell
	}
	// PHP's built-in default (main/main.c); only the CLI forces 0.
	return timeLimit{30, "max_execution_time", parser.Pos{}}, true
}

func runTimeoutChain(p *Pass) {
	ini := p.facts.INI()
	pools := p.facts.Pools()
	// 1. max_execution_time < request_terminate_timeout, per pool.
	for _, pl := range pools {
		rtt := pl.RequestTerminateTimeout
		met, ok := phpLimit(ini, pl)
		if rtt <= 0 || !ok || rtt > met.secs {
			continue
		}
		s := pl.Settings["request_terminate_timeout"]
		p.Report(Diagnostic{Pos: s.Pos, Related: met.related(),
			Message: "request_terminate_timeout of pool " + pl.Name + " (" + strconv.Itoa(rtt) + " s) is not above " + met.describe() + ": php-fpm kills the worker before PHP ends the script itself; set it a little above max_execution_time"})
	}
	// 2. What PHP may take < what Apache waits, per handler to php-fpm.
	seen := map[parser.Pos]bool{}
	for _, h := range p.facts.Handlers() {
		if !h.Entry.After {
			continue
		}
		vh := p.facts.VHostOf(h.Node)
		ap := apacheProxyTimeout(p, vh, h.Backend)
		for _, pl := range facts.PoolsFor(pools, h.Backend) {
			php := timeLimit{pl.RequestTerminateTimeout, "request_terminate_timeout of pool " + pl.Name, pl.Settings["request_terminate_timeout"].Pos}
			if php.secs <= 0 {
				var ok bool
				if php, ok = phpLimit(ini, pl); !ok {
					continue
				}
			}
			if ap.secs > php.secs {
				continue
			}
			at := ap.pos
			if at.Line == 0 {
				at = h.Node.Pos
			}
			if seen[at] {
				continue
			}
			seen[at] = true
			p.Report(Diagnostic{Pos: at, Related: php.related(),
				Message: "Apache waits " + ap.describe() + " for php-fpm, not longer than " + php.describe() + ": long requests get 504 Gateway Timeout while PHP keeps running; raise ProxyTimeout (or ProxySet timeout=) above it"})
		}
	}
	// 3. A php_value max_execution_time in Apache (the mod_php setting)
	//    against what Apache will wait once PHP runs behind it.
	for _, e := range p.facts.Index().Named("php_value", "php_admin_value") {
		n := e.Node
		if n.Kind != parser.KindDirective || !strings.EqualFold(facts.Arg(n, 0), "max_execution_time") || !(e.Today || e.After) {
			continue
		}
		secs, err := strconv.Atoi(facts.Arg(n, 1))
		if err != nil || secs <= 0 {
			continue
		}
		vh := p.facts.VHostOf(n)
		for _, ap := range apacheSideLimits(p, vh) {
			if ap.secs > secs {
				continue
			}
			p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Related: append(ap.related(), includeChain(n)...),
				Message: "max_execution_time " + strconv.Itoa(secs) + " s is not below " + ap.describe() + ": once PHP runs behind Apache, Apache gives up first (504) while the script keeps running; raise the Apache limit above it"})
			break
		}
	}
}

// apacheProxyTimeout returns how long Apache waits for the backend of a
// mod_proxy_fcgi handler in vh: ProxySet timeout= in a <Proxy> for that
// backend, else ProxyTimeout, else Timeout (vhost before main server),
// else 60 s.
func apacheProxyTimeout(p *Pass, vh *parser.VHost, backend string) timeLimit {
	_, addr := facts.BackendAddr(backend)
	var vProxy, mProxy, vTimeout, mTimeout *timeLimit
	for _, e := range p.facts.Index().Named("ProxySet", "ProxyTimeout", "Timeout") {
		n := e.Node
		if n.Kind != parser.KindDirective || !e.After || e.Access != nil {
			continue
		}
		switch parser.LowerName(n.Name) {
		case "proxyset":
			sec := parser.Enclosing(n, "Proxy", "ProxyMatch")
			target := ""
			if sec != nil {
				target = facts.Arg(sec, 0)
			} else if len(n.Args) > 0 && !strings.Contains(n.Args[0], "=") {
				target = n.Args[0]
			}
			if addr == "" || !strings.Contains(strings.ToLower(target), strings.ToLower(addr)) {
				continue
			}
			for _, a := range n.Args {
				if k, v, ok := strings.Cut(a, "="); ok && strings.EqualFold(k, "timeout") {
					if s, err := strconv.Atoi(v); err == nil {
						return timeLimit{s, "ProxySet timeout=", n.Pos}
					}
				}
			}
		default:
			s, err := strconv.Atoi(facts.Arg(n, 0))
			if err != nil {
				continue
			}
			l := &timeLimit{s, n.Name, n.Pos}
			in := p.facts.VHostOf(n)
			proxy := strings.EqualFold(n.Name, "ProxyTimeout")
			switch {
			case in != nil && facts.SameVHost(in, vh) && proxy:
				vProxy = l
			case in == nil && proxy:
				mProxy = l
			case in != nil && facts.SameVHost(in, vh):
				vTimeout = l
			case in == nil:
				mTimeout = l
			}
		}
	}
	for _, l := range []*timeLimit{vProxy, mProxy, vTimeout, mTimeout} {
		if l != nil {
			return *l
		}
	}
	return timeLimit{60, "Timeout", parser.Pos{}}
}

// apacheSideLimits returns the Apache limits that bound a PHP request in
// vh once PHP runs behind Apache: the proxy timeout of each handler to
// php-fpm, FcgidIOTimeout and FastCgiExternalServer -idle-timeout where set.
func apacheSideLimits(p *Pass, vh *parser.VHost) []timeLimit {
	var out []timeLimit
	for _, h := range p.facts.Handlers() {
		if !h.Entry.After {
			continue
		}
		if hv := p.facts.VHostOf(h.Node); hv != nil && !facts.SameVHost(hv, vh) {
			continue
		}
		out = append(out, apacheProxyTimeout(p, vh, h.Backend))
	}
	if len(out) == 0 {
		// No handler yet (still mod_php): mod_proxy_fcgi will wait
		// ProxyTimeout, which defaults to Timeout.
		out = append(out, apacheProxyTimeout(p, vh, ""))
	}
	for _, e := range p.facts.Index().Named("FcgidIOTimeout", "IOTimeout", "FastCgiExternalServer") {
		n := e.Node
		if n.Kind != parser.KindDirective || !(e.Today || e.After) {
			continue
		}
		if hv := p.facts.VHostOf(n); hv != nil && !facts.SameVHost(hv, vh) {
			continue
		}
		if strings.EqualFold(n.Name, "FastCgiExternalServer") {
			secs := 30
			pos := parser.Pos{}
			for i, a := range n.Args {
				if strings.EqualFold(a, "-idle-timeout") && i+1 < len(n.Args) {
					if s, err := strconv.Atoi(n.Args[i+1]); err == nil {
						secs, pos = s, n.Pos
					}
				}
			}
			if pos.Line == 0 {
				pos = n.Pos // the default applies to this server
			}
			out = append(out, timeLimit{secs, "FastCgiExternalServer -idle-timeout", pos})
			continue
		}
		if s, err := strconv.Atoi(facts.Arg(n, 0)); err == nil {
			out = append(out, timeLimit{s, n.Name, n.Pos})
		}
	}
	return out
}
