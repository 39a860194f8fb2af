package fpmconf

import (
	"strconv"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// iniToExpand are the INI keys whose relative values php-fpm puts under the
// prefix (sapi/fpm/fpm/fpm_php.h FPM_PHP_INI_TO_EXPAND).
var iniToExpand = []string{
	"error_log", "extension_dir", "sendmail_path", "session.cookie_path",
	"session_pgsql.sem_file_name", "soap.wsdl_cache_dir", "uploadprogress.file.filename_template",
	"xdebug.output_dir", "xdebug.profiler_output_dir", "xdebug.trace_output_dir", "xmms.path",
	"axis2.client_home", "blenc.key_file", "coin_acceptor.device",
}

// postProcess fills the typed Pool fields and applies the checks of
// fpm_conf_post_process and fpm_conf_process_all_pools that do not depend
// on who runs php-fpm (the "user has not been defined" check needs root
// without -R and is left out).
func (l *fpmLoader) postProcess(mainFile string) {
	c := l.cfg
	filePos := parser.Pos{File: mainFile}
	if s, ok := c.Global["process.max"]; ok && atoi(s.Value) < 0 {
		l.diag(s.Pos, SeverityError, "process.max can't be negative")
	}
	if s, ok := c.Global["process.priority"]; ok {
		if n := atoi(s.Value); n < -19 || n > 20 {
			l.diag(s.Pos, SeverityError, "process.priority must be in [-19,20]")
		}
	}
	if len(c.Pools) == 0 {
		l.diag(filePos, SeverityError, "no pool defined; php-fpm needs at least one [pool] section")
	}
	listens := map[string]*Pool{}
	for _, p := range c.Pools {
		l.processPool(p)
		if p.Listen == "" {
			continue
		}
		if q, dup := listens[p.Listen]; dup {
			l.diag(p.Pos, SeverityError, "pool [%s] listens on %s like pool [%s] (%s)", p.Name, p.Listen, q.Name, q.Pos)
			continue
		}
		listens[p.Listen] = p
	}
}

func (p *Pool) int(name string) (int, bool) {
	s, ok := p.Settings[name]
	if !ok {
		return 0, false
	}
	n, _ := strconv.Atoi(s.Value)
	return n, true
}

func (p *Pool) posOf(name string) parser.Pos {
	if s, ok := p.Settings[name]; ok {
		return s.Pos
	}
	return p.Pos
}

// poolPrefix is the directory a pool's relative paths go under: its own
// prefix (itself relative to the global one), else the global prefix.
func (l *fpmLoader) poolPrefix(p *Pool) string {
	if s, ok := p.Settings["prefix"]; ok && s.Value != "" {
		if strings.HasPrefix(s.Value, "/") {
			return s.Value
		}
		return l.cfg.Prefix + "/" + s.Value
	}
	return l.cfg.Prefix
}

// isUnixListen is fpm_sockets_domain_from_address: an address with ':' or
// made only of digits is TCP, anything else a Unix socket path.
func isUnixListen(addr string) bool {
	if strings.Contains(addr, ":") {
		return false
	}
	return strings.Trim(addr, "0123456789") != ""
}

func (l *fpmLoader) processPool(p *Pool) {
	str := func(name string) string { return p.Settings[name].Value }
	p.User, p.Group = str("user"), str("group")
	p.ListenOwner, p.ListenGroup, p.ListenMode = str("listen.owner"), str("listen.group"), str("listen.mode")
	p.PM = str("pm")
	p.MaxChildren, _ = p.int("pm.max_children")
	p.MaxRequests, _ = p.int("pm.max_requests")
	p.RequestTerminateTimeout, _ = p.int("request_terminate_timeout")
	prefix := l.poolPrefix(p)

	if s, ok := p.Settings["prefix"]; ok && s.Value != "" {
		if !l.isDir(prefix) {
			l.diag(s.Pos, SeverityError, "[pool %s] the prefix %q does not exist or is not a directory", p.Name, prefix)
		}
	}
	p.Listen = str("listen")
	if p.Listen == "" {
		l.diag(p.Pos, SeverityError, "[pool %s] no listen address; set listen = /run/php/%s.sock or 127.0.0.1:9000", p.Name, p.Name)
	} else if isUnixListen(p.Listen) && !strings.HasPrefix(p.Listen, "/") {
		p.Listen = prefix + "/" + p.Listen
	}
	if n, ok := p.int("process.priority"); ok && (n < -19 || n > 20) {
		l.diag(p.posOf("process.priority"), SeverityError, "[pool %s] process.priority must be in [-19,20]", p.Name)
	}
	if p.PM == "" {
		l.diag(p.Pos, SeverityError, "[pool %s] the process manager is missing; set pm = static, dynamic or ondemand", p.Name)
	}
	if p.MaxChildren < 1 {
		l.diag(p.posOf("pm.max_children"), SeverityError, "[pool %s] pm.max_children must be a positive value", p.Name)
	}
	switch p.PM {
	case "dynamic":
		minSpare, _ := p.int("pm.min_spare_servers")
		maxSpare, _ := p.int("pm.max_spare_servers")
		start, _ := p.int("pm.start_servers")
		switch {
		case minSpare <= 0:
			l.diag(p.posOf("pm.min_spare_servers"), SeverityError, "[pool %s] pm.min_spare_servers(%d) must be a positive value", p.Name, minSpare)
		case maxSpare <= 0:
			l.diag(p.posOf("pm.max_spare_servers"), SeverityError, "[pool %s] pm.max_spare_servers(%d) must be a positive value", p.Name, maxSpare)
		case minSpare > p.MaxChildren || maxSpare > p.MaxChildren:
			l.diag(p.posOf("pm.max_spare_servers"), SeverityError, "[pool %s] pm.min_spare_servers(%d) and pm.max_spare_servers(%d) cannot be greater than pm.max_children(%d)", p.Name, minSpare, maxSpare, p.MaxChildren)
		case maxSpare < minSpare:
			l.diag(p.posOf("pm.max_spare_servers"), SeverityError, "[pool %s] pm.max_spare_servers(%d) must not be less than pm.min_spare_servers(%d)", p.Name, maxSpare, minSpare)
		case start > 0 && (start < minSpare || start > maxSpare):
			l.diag(p.posOf("pm.start_servers"), SeverityError, "[pool %s] pm.start_servers(%d) must not be less than pm.min_spare_servers(%d) and not greater than pm.max_spare_servers(%d)", p.Name, start, minSpare, maxSpare)
		}
		if n, ok := p.int("pm.max_spawn_rate"); ok && n < 1 {
			l.diag(p.posOf("pm.max_spawn_rate"), SeverityError, "[pool %s] pm.max_spawn_rate must be a positive value", p.Name)
		}
	case "ondemand":
		if n, ok := p.int("pm.process_idle_timeout"); ok && n < 1 {
			l.diag(p.posOf("pm.process_idle_timeout"), SeverityError, "[pool %s] pm.process_idle_timeout(%ds) must be greater than 0s", p.Name, n)
		}
	}
	for _, name := range []string{"pm.status_path", "ping.path"} {
		v := str(name)
		if v == "" {
			continue
		}
		switch {
		case !strings.HasPrefix(v, "/"):
			l.diag(p.posOf(name), SeverityError, "[pool %s] %s %q must start with a '/'", p.Name, name, v)
		case len(v) < 2 && (name == "ping.path" || str("pm.status_listen") == ""):
			l.diag(p.posOf(name), SeverityError, "[pool %s] %s %q is not long enough", p.Name, name, v)
		case strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-_.~") != "":
			l.diag(p.posOf(name), SeverityError, "[pool %s] %s %q may contain only letters, digits and /_-.~", p.Name, name, v)
		}
	}
	if s, ok := p.Settings["ping.response"]; ok && s.Value == "" && str("ping.path") != "" {
		l.diag(s.Pos, SeverityError, "[pool %s] ping.response is empty", p.Name)
	}
	slow, _ := p.int("request_slowlog_timeout")
	if slow != 0 {
		if str("slowlog") == "" {
			l.diag(p.posOf("request_slowlog_timeout"), SeverityError, "[pool %s] request_slowlog_timeout needs slowlog", p.Name)
		} else if p.RequestTerminateTimeout != 0 && slow > p.RequestTerminateTimeout {
			l.diag(p.posOf("request_slowlog_timeout"), SeverityError, "[pool %s] request_slowlog_timeout (%d) can't be greater than request_terminate_timeout (%d)", p.Name, slow, p.RequestTerminateTimeout)
		}
	}
	if n, ok := p.int("request_slowlog_trace_depth"); ok && n != 0 {
		if str("slowlog") == "" {
			l.diag(p.posOf("request_slowlog_trace_depth"), SeverityError, "[pool %s] request_slowlog_trace_depth needs slowlog", p.Name)
		} else if n < 0 {
			l.diag(p.posOf("request_slowlog_trace_depth"), SeverityError, "[pool %s] request_slowlog_trace_depth (%d) must be a positive value", p.Name, n)
		}
	}
	chroot := str("chroot")
	if chroot != "" {
		dir := chroot
		if strings.HasPrefix(dir, "$prefix") {
			dir = prefix + strings.TrimPrefix(dir, "$prefix")
		} else if !strings.HasPrefix(dir, "/") {
			dir = prefix + "/" + dir
		}
		if !l.isDir(dir) {
			l.diag(p.posOf("chroot"), SeverityError, "[pool %s] the chroot path %q does not exist or is not a directory", p.Name, dir)
		}
	}
	if chdir := str("chdir"); chdir != "" {
		dir := chdir
		if !strings.HasPrefix(dir, "/") {
			dir = prefix + "/" + dir
		}
		if chroot != "" {
			dir = chroot + "/" + dir
		}
		if !l.isDir(dir) {
			l.diag(p.posOf("chdir"), SeverityError, "[pool %s] the chdir path %q does not exist or is not a directory", p.Name, dir)
		}
	}
	if s, ok := p.Settings["security.limit_extensions"]; ok {
		p.LimitExtensions = strings.FieldsFunc(s.Value, func(r rune) bool { return r == ' ' || r == '\t' })
		if p.LimitExtensions == nil {
			p.LimitExtensions = []string{}
		}
	} else {
		p.LimitExtensions = []string{".php", ".phar"}
	}
	if chroot == "" {
		for i, s := range p.PHP {
			if s.Admin && s.Key == "error_log" && strings.EqualFold(s.Value, "syslog") {
				continue
			}
			for _, k := range iniToExpand {
				if strings.EqualFold(s.Key, k) && s.Value != "" && !strings.HasPrefix(s.Value, "/") {
					p.PHP[i].Value = prefix + "/" + s.Value
				}
			}
		}
	}
}

// isDir reports whether the server path p is a directory (under the
// root, Options.Root).
func (l *fpmLoader) isDir(p string) bool {
	fi, err := l.opt.Root.Stat(l.opt.Root.Opened(p))
	return err == nil && fi.IsDir()
}
