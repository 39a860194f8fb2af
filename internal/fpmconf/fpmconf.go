package fpmconf

import (
	"fmt"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/phpini"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// Severity says how bad a Diagnostic is.
type Severity uint8

const (
	// SeverityError is a problem PHP reports: php-fpm refuses to start with
	// the configuration (php-fpm -t fails), or PHP stops reading a php.ini
	// at a syntax error.
	SeverityError Severity = iota + 1
	// SeverityWarning is accepted but probably not what was meant: an
	// include= pattern that matches nothing, a php_value for a directive
	// PHP does not know, a ${VAR} that is not set here.
	SeverityWarning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	}
	return fmt.Sprintf("Severity(%d)", uint8(s))
}

// Diagnostic is a problem in the input at a position. Pos.Line is 0 for a
// problem of a file (or directory) as a whole, such as "no pool defined".
type Diagnostic struct {
	Pos      parser.Pos
	Severity Severity
	// Message says what is wrong, in lower case, and what php-fpm or PHP
	// does about it.
	Message string
}

// String formats d as file:line:col: message.
func (d Diagnostic) String() string { return d.Pos.String() + ": " + d.Message }

// Setting is a directive's value after INI scanning (and, in php-fpm.conf,
// $pool substitution), with the position of the line that set it.
type Setting struct {
	Value string
	Pos   parser.Pos
}

// INISetting is one php_value[Key], php_admin_value[Key], php_flag[Key] or
// php_admin_flag[Key] line of a pool. Value is what php-fpm applies: flags
// are "1" or "0", and relative paths of the keys php-fpm expands
// (error_log, extension_dir, sendmail_path, …; sapi/fpm/fpm/fpm_php.h
// FPM_PHP_INI_TO_EXPAND) are made absolute under the prefix unless the pool
// has a chroot.
type INISetting struct {
	Key, Value string
	Admin      bool // php_admin_value or php_admin_flag: ini_set() and .user.ini cannot change it
	Flag       bool // php_flag or php_admin_flag
	Pos        parser.Pos
}

// Config is a php-fpm configuration: the main file and everything it
// includes.
type Config struct {
	// Files are the files read, in the order php-fpm reads them.
	Files []string
	// Prefix is the prefix relative paths are resolved under (php-fpm -p,
	// else DefaultPrefix).
	Prefix string
	// Global holds the [global] directives by lower-case name.
	Global map[string]Setting
	// Pools are the pools in the order they were first opened.
	Pools []*Pool
	// Diagnostics are the problems found: those of reading, in file
	// order, then those of the checks php-fpm makes once everything is
	// read.
	Diagnostics []Diagnostic
}

// Pool is one [name] section of php-fpm.conf, merged over every place it is
// opened.
type Pool struct {
	// Name is the section name as first written; Pos is that header.
	Name string
	Pos  parser.Pos
	// Settings holds every plain directive by lower-case name, last one
	// set.
	Settings map[string]Setting
	// PHP are the php_value/php_admin_value/php_flag/php_admin_flag lines
	// in file order; Values gives the ones that take effect.
	PHP []INISetting
	// Env holds env[NAME] values by name, as configured: a value that
	// starts with '$' names a variable of php-fpm's own environment, which
	// php-fpm copies when a worker starts (sapi/fpm/fpm/fpm_env.c).
	Env map[string]Setting
	// Listen is the listen address as php-fpm resolves it: a relative Unix
	// socket path is put under the pool's prefix.
	Listen string
	// ListenOwner, ListenGroup and ListenMode are listen.owner,
	// listen.group and listen.mode as written.
	ListenOwner, ListenGroup, ListenMode string
	// User and Group are the workers' user and group.
	User, Group string
	// PM is the process manager in lower case: static, dynamic or ondemand.
	PM string
	// MaxChildren is pm.max_children, MaxRequests pm.max_requests.
	MaxChildren, MaxRequests int
	// RequestTerminateTimeout is request_terminate_timeout in seconds (0:
	// off).
	RequestTerminateTimeout int
	// LimitExtensions is security.limit_extensions split on blanks; ".php
	// .phar" when unset, empty when set to "" (every extension allowed).
	LimitExtensions []string
}

// Values returns the php_value and php_admin_value settings that take effect
// in the pool's workers, by key: for a key set more than once the first line
// wins, and an admin setting beats a plain one, because php-fpm keeps each
// list newest first and applies the plain list before the admin one
// (sapi/fpm/fpm/fpm_php.c fpm_php_apply_defines). extension= lines load a
// module instead of setting a directive and are left out.
func (p *Pool) Values() map[string]INISetting {
	m := make(map[string]INISetting, len(p.PHP))
	for _, admin := range []bool{false, true} {
		seen := map[string]bool{}
		for _, s := range p.PHP {
			if s.Admin != admin || s.Key == "extension" || seen[s.Key] {
				continue
			}
			seen[s.Key] = true
			m[s.Key] = s
		}
	}
	return m
}

// Pool returns the pool named name (compared case-insensitively, as php-fpm
// does), or nil.
func (c *Config) Pool(name string) *Pool {
	for _, p := range c.Pools {
		if strings.EqualFold(p.Name, name) {
			return p
		}
	}
	return nil
}

// Accepted reports whether php-fpm would accept the configuration: no
// Diagnostic is an error.
func (c *Config) Accepted() bool { return !hasError(c.Diagnostics) }

func hasError(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Baseline returns the INI values a fresh worker of pool starts with, for
// every directive set somewhere: php.ini and its scan directory, then the
// pool's php_value/php_flag lines, then its php_admin_value/php_admin_flag
// lines (see Pool.Values). Directives set nowhere have PHP's built-in
// defaults, which this package does not know, and are absent. So is an
// empty value for a directive PHP refuses to set empty
// (phpini.RefusesEmpty: Debian's php.ini has "mysqli.default_socket ="),
// since the worker keeps the built-in default then. Either argument may be
// nil.
func Baseline(ini *INI, pool *Pool) map[string]string {
	m := map[string]string{}
	set := func(k, v string) {
		if v == "" && phpini.RefusesEmpty(k) {
			return
		}
		m[k] = v
	}
	if ini != nil {
		for k, s := range ini.Settings {
			set(k, s.Value)
		}
	}
	if pool != nil {
		for k, s := range pool.Values() {
			set(k, s.Value)
		}
	}
	return m
}
