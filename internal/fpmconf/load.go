package fpmconf

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/phpini"
	"github.com/modphp-migrate/modphp-migrate/internal/rootfs"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// DefaultPrefix is the prefix php-fpm resolves relative paths under when it
// is started without -p: PHP_PREFIX, /usr in Debian's and most builds.
const DefaultPrefix = "/usr"

// maxIncludeDepth is how many files php-fpm keeps open at once, the main
// file included: fpm_conf_load_ini_file fails "to include more than 5 files
// recursively" when ini_recursion++ > 4.
const maxIncludeDepth = 5

// Options tunes Load to the php-fpm being modelled.
type Options struct {
	// Prefix is php-fpm's -p; "" means DefaultPrefix.
	Prefix string
	// Getenv looks up php-fpm's environment for ${NAME}; nil means an
	// empty environment, and each ${NAME} that nothing defines is
	// reported as a warning.
	Getenv func(name string) (string, bool)
	// INI is the php.ini php-fpm read before php-fpm.conf: ${NAME} looks
	// there first, as zend_ini_get_var does.
	INI *INI
	// Root reads a server's files copied under a directory (lint's and
	// plan's --root): the main file's path is as opened (under the root),
	// the configuration's own absolute paths (include=, prefix, chroot,
	// chdir) are looked up under the root, and symbolic links are followed
	// inside it. nil reads this machine's files as they are.
	Root *rootfs.Root
}

// Load reads the php-fpm configuration at path as php-fpm -y path would,
// with the default prefix and an empty environment. The error is only for
// a main file that cannot be read; problems inside the configuration are
// Config.Diagnostics.
func Load(path string) (*Config, error) { return LoadOptions(path, Options{}) }

// LoadOptions is Load with options.
func LoadOptions(path string, opt Options) (*Config, error) {
	src, err := opt.Root.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	prefix := opt.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	l := &fpmLoader{
		opt: opt,
		cfg: &Config{Prefix: prefix, Global: map[string]Setting{}},
	}
	l.loadFile(path, src, 1)
	l.postProcess(path)
	return l.cfg, nil
}

type fpmLoader struct {
	opt     Options
	cfg     *Config
	current *Pool // nil in [global]
}

func (l *fpmLoader) diag(pos parser.Pos, sev Severity, format string, args ...any) {
	l.cfg.Diagnostics = append(l.cfg.Diagnostics, Diagnostic{Pos: pos, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

// loadFile reads one file line by line, as fpm_conf_load_ini_file does:
// each line (without its '\n') is an INI document of its own.
func (l *fpmLoader) loadFile(path string, src []byte, depth int) {
	l.cfg.Files = append(l.cfg.Files, path)
	text := string(src)
	line := 0
	for len(text) > 0 || line == 0 {
		line++
		var ln string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			ln, text = text[:i], text[i+1:]
		} else {
			ln, text = text, ""
		}
		if ln == "" {
			if text == "" {
				break
			}
			continue
		}
		l.loadLine(path, line, ln, depth)
	}
}

func (l *fpmLoader) lookup() func(string) (string, bool) {
	return func(name string) (string, bool) {
		if l.opt.INI != nil {
			if s, ok := l.opt.INI.Settings[name]; ok {
				return s.Value, true
			}
		}
		if l.opt.Getenv != nil {
			return l.opt.Getenv(name)
		}
		return "", false
	}
}

func (l *fpmLoader) loadLine(path string, line int, ln string, depth int) {
	// An error at the end points just past the line, not at the '\n'
	// php-fpm appends.
	pos := func(off int) parser.Pos { return parser.Pos{File: path, Line: line, Col: min(off, len(ln)) + 1} }
	var include *string
	var includePos parser.Pos
	serr := parseINI(ln+"\n", l.lookup(), func(ev iniEvent) {
		p := pos(ev.off)
		for _, name := range ev.unset {
			l.diag(p, SeverityWarning, "${%s} is not set here; php-fpm takes it from its php.ini or environment and uses \"\" when neither has it", name)
		}
		switch ev.kind {
		case evSection:
			l.section(ev.key, p)
		case evBare:
			l.diag(p, SeverityError, "%q has no value (php-fpm: \"value is NULL for a ZEND_INI_PARSER_ENTRY\"); write %s = value", ev.key, ev.key)
		case evEntry:
			if ev.key == "include" {
				if include != nil {
					l.diag(p, SeverityError, "two includes on one line; php-fpm refuses the configuration")
					return
				}
				include, includePos = &ev.value, p
				return
			}
			l.entry(ev.key, ev.value, p)
		case evArray:
			l.array(ev.key, ev.offset, ev.value, p)
		}
	})
	if serr != nil {
		l.diag(pos(serr.off), SeverityError, "%s; php-fpm refuses the configuration", serr.msg)
		return
	}
	if include != nil {
		l.include(*include, includePos, depth)
	}
}

// include follows include=pattern: fpm_evaluate_full_path puts a relative
// pattern under the prefix, then glob(GLOB_ERR|GLOB_MARK) expands it; a
// directory that cannot be read is an error, no match only a warning, and
// directories in the result are skipped.
func (l *fpmLoader) include(pattern string, pos parser.Pos, depth int) {
	if pattern != "" && !strings.HasPrefix(pattern, "/") {
		pattern = l.cfg.Prefix + "/" + pattern
	}
	pattern = l.opt.Root.Opened(pattern)
	matches, err := globC(l.opt.Root, pattern)
	if err != nil {
		l.diag(pos, SeverityError, "cannot expand include pattern %q: %v; php-fpm refuses the configuration", pattern, err)
		return
	}
	if len(matches) == 0 {
		l.diag(pos, SeverityWarning, "nothing matches the include pattern %q", pattern)
		return
	}
	for _, m := range matches {
		if fi, err := l.opt.Root.Stat(m); err != nil || !fi.Mode().IsRegular() {
			// php-fpm would read a device or FIFO line by line; we
			// refuse to (include=/dev/zero never ends).
			l.diag(pos, SeverityWarning, "not including %s: not a regular file", m)
			continue
		}
		if depth >= maxIncludeDepth {
			l.diag(pos, SeverityError, "including %s would open more than %d files at once; php-fpm refuses the configuration", m, maxIncludeDepth)
			return
		}
		src, err := l.opt.Root.ReadFile(m)
		if err != nil {
			l.diag(pos, SeverityError, "cannot include %s: %v", m, err)
			return
		}
		l.loadFile(m, src, depth+1)
	}
}

// globC expands pattern like glibc's glob(3) with GLOB_ERR|GLOB_MARK: a
// wildcard never matches a leading dot, directories are dropped (php-fpm
// skips names ending in '/'), and a fixed directory that cannot be opened is
// an error. pattern is as opened under root.
func globC(root *rootfs.Root, pattern string) ([]string, error) {
	if !hasMeta(pattern) {
		fi, err := root.Stat(pattern)
		if err != nil || fi.IsDir() {
			return nil, nil
		}
		return []string{pattern}, nil
	}
	// The fixed leading directory must be readable.
	elems := strings.Split(pattern, "/")
	fixed := []string{}
	for _, e := range elems[:len(elems)-1] {
		if hasMeta(e) {
			break
		}
		fixed = append(fixed, e)
	}
	dir := strings.Join(fixed, "/")
	if dir == "" {
		dir = "/"
	}
	if _, err := root.ReadDir(dir); err != nil {
		return nil, err
	}
	ms, err := root.Glob(pattern)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range ms {
		me := strings.Split(m, "/")
		if len(me) != len(elems) {
			continue
		}
		hidden := false
		for i, pe := range elems {
			if hasMeta(pe) && !strings.HasPrefix(pe, ".") && strings.HasPrefix(me[i], ".") {
				hidden = true
			}
		}
		if hidden {
			continue
		}
		if fi, err := root.Stat(m); err != nil || fi.IsDir() {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

func (l *fpmLoader) section(name string, pos parser.Pos) {
	if strings.EqualFold(name, "global") {
		l.current = nil
		return
	}
	if p := l.cfg.Pool(name); p != nil {
		l.current = p
		return
	}
	p := &Pool{Name: name, Pos: pos, Settings: map[string]Setting{}, Env: map[string]Setting{}}
	l.cfg.Pools = append(l.cfg.Pools, p)
	l.current = p
}

// valueKind is how php-fpm checks a directive's value
// (fpm_conf_set_string, _integer, _time, …).
type valueKind int

const (
	kString valueKind = iota
	kInt
	kTime
	kBool
	kPM
	kLogLevel
	kRlimitCore
	kFacility
)

// globalOptions is ini_fpm_global_options of sapi/fpm/fpm/fpm_conf.c for a
// Linux build with syslog and systemd.
var globalOptions = map[string]valueKind{
	"pid": kString, "error_log": kString, "syslog.ident": kString, "syslog.facility": kFacility,
	"log_buffering": kBool, "log_level": kLogLevel, "log_limit": kInt,
	"emergency_restart_threshold": kInt, "emergency_restart_interval": kTime,
	"process_control_timeout": kTime, "process.max": kInt, "process.priority": kInt,
	"daemonize": kBool, "rlimit_files": kInt, "rlimit_core": kRlimitCore,
	"events.mechanism": kString, "systemd_interval": kTime,
}

// poolOptions is ini_fpm_pool_options of sapi/fpm/fpm/fpm_conf.c for a Linux
// build with ACLs and AppArmor (Debian's).
var poolOptions = map[string]valueKind{
	"prefix": kString, "user": kString, "group": kString, "listen": kString,
	"listen.backlog": kInt, "listen.acl_users": kString, "listen.acl_groups": kString,
	"listen.owner": kString, "listen.group": kString, "listen.mode": kString,
	"listen.allowed_clients": kString, "process.priority": kInt, "process.dumpable": kBool,
	"pm": kPM, "pm.max_children": kInt, "pm.start_servers": kInt,
	"pm.min_spare_servers": kInt, "pm.max_spare_servers": kInt, "pm.max_spawn_rate": kInt,
	"pm.process_idle_timeout": kTime, "pm.max_requests": kInt, "pm.status_path": kString,
	"pm.status_listen": kString, "ping.path": kString, "ping.response": kString,
	"access.log": kString, "access.format": kString, "slowlog": kString,
	"request_slowlog_timeout": kTime, "request_slowlog_trace_depth": kInt,
	"request_terminate_timeout": kTime, "request_terminate_timeout_track_finished": kBool,
	"rlimit_files": kInt, "rlimit_core": kRlimitCore, "chroot": kString, "chdir": kString,
	"catch_workers_output": kBool, "decorate_workers_output": kBool, "clear_env": kBool,
	"security.limit_extensions": kString, "apparmor_hat": kString,
}

var facilities = []string{"AUTH", "AUTHPRIV", "CRON", "DAEMON", "FTP", "KERN", "LPR", "MAIL",
	"NEWS", "SYSLOG", "USER", "UUCP", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4",
	"LOCAL5", "LOCAL6", "LOCAL7"}

// checkValue applies php-fpm's value parser for kind; it returns the value
// to store (an integer or seconds for numbers, the expanded string for
// strings) or php-fpm's complaint.
func (l *fpmLoader) checkValue(kind valueKind, v string) (string, string) {
	switch kind {
	case kString:
		return l.expandPool(v)
	case kInt:
		n, msg := parseInt(v)
		return strconv.Itoa(n), msg
	case kTime:
		n, msg := ParseTime(v)
		return strconv.Itoa(n), msg
	case kBool:
		// PHP 8.2's fpm_conf_set_boolean takes "1" (On, yes, true) and
		// "" or "0" (Off, no, false, none).
		switch v {
		case "1":
			return "1", ""
		case "", "0":
			return "", ""
		}
		return v, "invalid boolean value"
	case kPM:
		for _, s := range []string{"static", "dynamic", "ondemand"} {
			if strings.EqualFold(v, s) {
				return s, ""
			}
		}
		return v, "invalid process manager (static, dynamic or ondemand)"
	case kLogLevel:
		for _, s := range []string{"debug", "notice", "warning", "warn", "error", "alert"} {
			if strings.EqualFold(v, s) {
				return v, ""
			}
		}
		return v, "invalid value for 'log_level'"
	case kRlimitCore:
		if strings.EqualFold(v, "unlimited") {
			return "-1", ""
		}
		n, msg := parseInt(v)
		if msg == "" && n < 0 {
			msg = "must be greater than zero or 'unlimited'"
		}
		return strconv.Itoa(n), msg
	case kFacility:
		for _, s := range facilities {
			if strings.EqualFold(v, s) {
				return v, ""
			}
		}
		return v, "invalid value"
	}
	return v, ""
}

// parseInt is fpm_conf_set_integer: an optional leading '-', then digits
// only (the empty string is 0), read with atoi.
func parseInt(v string) (int, string) {
	for i := 0; i < len(v); i++ {
		if i == 0 && v[i] == '-' {
			continue
		}
		if !isDigit(v[i]) {
			return 0, "is not a valid number (greater or equal than zero)"
		}
	}
	return int(atoi(v)), ""
}

// ParseTime reads a php-fpm time value (fpm_conf_set_time): a number with
// an optional suffix s, m, h or d, in seconds. The number is read with C's
// atoi, so "1.5m" is 60 and "m" is 0. The message is php-fpm's when the
// value is empty or has another suffix.
func ParseTime(v string) (seconds int, msg string) {
	if v == "" {
		return 0, "invalid time value"
	}
	num, mult := v[:len(v)-1], 1
	switch v[len(v)-1] {
	case 'm':
		mult = 60
	case 'h':
		mult = 3600
	case 'd':
		mult = 86400
	case 's':
	default:
		if !isDigit(v[len(v)-1]) {
			return 0, "unknown suffix used in time value"
		}
		num = v
	}
	return int(int32(int64(atoi(num)) * int64(mult))), ""
}

// expandPool is fpm_conf_expand_pool_name: every "$pool" becomes the current
// pool's name; outside a pool it is an error.
func (l *fpmLoader) expandPool(v string) (string, string) {
	if !strings.Contains(v, "$pool") {
		return v, ""
	}
	if l.current == nil {
		return v, "Can't use '$pool' when the pool is not defined"
	}
	return strings.ReplaceAll(v, "$pool", l.current.Name), ""
}

func (l *fpmLoader) entry(name, value string, pos parser.Pos) {
	table, where := globalOptions, "the [global] section"
	if l.current != nil {
		table, where = poolOptions, "pool ["+l.current.Name+"]"
	}
	key := strings.ToLower(name)
	kind, ok := table[key]
	if !ok {
		l.diag(pos, SeverityError, "unknown entry %q in %s; php-fpm refuses the configuration", name, where)
		return
	}
	v, msg := l.checkValue(kind, value)
	if msg != "" {
		l.diag(pos, SeverityError, "unable to parse value for entry %q: %s", key, msg)
		return
	}
	if l.current == nil {
		l.cfg.Global[key] = Setting{Value: v, Pos: pos}
		return
	}
	l.current.Settings[key] = Setting{Value: v, Pos: pos}
}

func (l *fpmLoader) array(name, key, value string, pos parser.Pos) {
	if name == "access.suppress_path" {
		if key != "" {
			l.diag(pos, SeverityError, "keys given to access.suppress_path are not allowed")
			return
		}
		if !strings.HasPrefix(value, "/") {
			l.diag(pos, SeverityError, "values of access.suppress_path must begin with '/'")
			return
		}
	} else if key == "" {
		l.diag(pos, SeverityError, "%s[] needs a key", name)
		return
	}
	if l.current == nil {
		l.diag(pos, SeverityError, "%s[%s] is not allowed in the [global] section; put it in a pool", name, key)
		return
	}
	p := l.current
	var admin, flag bool
	switch name {
	case "env":
		if value == "" {
			l.diag(pos, SeverityError, "env[%s] has an empty value; php-fpm refuses it", key)
			return
		}
		v, msg := l.expandPool(value)
		if msg != "" {
			l.diag(pos, SeverityError, "error while parsing 'env[%s]': %s", key, msg)
			return
		}
		p.Env[key] = Setting{Value: v, Pos: pos}
		return
	case "access.suppress_path":
		return
	case "php_value":
	case "php_admin_value":
		admin = true
	case "php_flag":
		flag = true
	case "php_admin_flag":
		admin, flag = true, true
	default:
		l.diag(pos, SeverityError, "unknown directive %q; php-fpm refuses the configuration", name+"["+key+"]")
		return
	}
	v := value
	if flag {
		switch value {
		case "1":
			v = "1"
		case "", "0":
			v = "0"
		default:
			l.diag(pos, SeverityError, "error while parsing '%s[%s]': invalid boolean value %q (use On or Off)", name, key, value)
			return
		}
	} else {
		var msg string
		if v, msg = l.expandPool(value); msg != "" {
			l.diag(pos, SeverityError, "error while parsing '%s[%s]': %s", name, key, msg)
			return
		}
	}
	if _, known := phpini.Lookup(key); !known && key != "extension" {
		list := "php_value"
		if admin {
			list = "php_admin_value"
		}
		l.diag(pos, SeverityWarning, "PHP %s does not know the directive %q; php-fpm logs \"Unable to set %s '%s'\" and ignores it", phpini.PHPVersion, key, list, key)
	}
	p.PHP = append(p.PHP, INISetting{Key: key, Value: v, Admin: admin, Flag: flag, Pos: pos})
}
