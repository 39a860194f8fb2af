package shim

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/internal/phpini"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// ErrUnresettable means a request would leave a setting in a php-fpm
// worker that PHP cannot reset to the pool's baseline, so that later
// requests of other sites on that worker would inherit it (issue #14:
// phpMyAdmin's upload_tmp_dir). Such requests are answered 500.
var ErrUnresettable = errors.New("setting PHP cannot reset would leak to other requests on the worker")

// origin is where a setting of a Resolution comes from.
type origin struct {
	scope string // see phpLine.scope
	pos   parser.Pos
}

// settingScope is the directory every request under which gets line l:
// an access file's own directory, or the scope the server configuration
// gave it.
func settingScope(l phpLine) string {
	if l.htaccess {
		return path.Dir(l.pos.File)
	}
	return l.scope
}

// unresettable reports whether PHP refuses to set key back to the pool's
// baseline once a request has set it: the baseline is empty and PHP
// refuses the empty value (phpini.RefusesEmpty, generated from a real
// php-fpm).
func (p *Pool) unresettable(key string) bool {
	base, known := p.Baseline[key]
	return known && base == "" && phpini.RefusesEmpty(key)
}

// exclusiveFor reports whether every request a pool serves lies under
// scope: each of the pool's roots (its --pool-for document roots, / for
// the default pool) is scope or under it.
func exclusiveFor(roots []string, scope string) bool {
	if scope == "" || len(roots) == 0 {
		return false
	}
	for _, r := range roots {
		if scope != "/" && r != scope && !strings.HasPrefix(r, scope+"/") {
			return false
		}
	}
	return true
}

// checkUnresettable refuses settings that would leak: a key PHP cannot
// reset, set from a scope the pool does not serve alone, or left in the
// pool's workers by an earlier request while this one wants the baseline.
// desired are the request's settings by key, managed the keys the shim has
// set on the pool.
func checkUnresettable(b *backend, res *Resolution, desired map[string]string, managed []string) error {
	for _, s := range res.Settings {
		if _, ok := desired[s.Key]; !ok || !b.info.unresettable(s.Key) || s.Value == "" {
			continue
		}
		if o := res.origins[s.Key]; !exclusiveFor(b.roots, o.scope) {
			return fmt.Errorf("%s: %s %q: PHP cannot set it back to the pool's empty value, and the pool also serves requests outside %s; give that directory its own pool (--pool-for %s=ADDR): %w",
				o.pos, s.Key, s.Value, scopeName(o.scope), scopeName(o.scope), ErrUnresettable)
		}
	}
	for _, k := range managed {
		if v, ok := desired[k]; (!ok || v == "") && b.info.unresettable(k) {
			return fmt.Errorf("%s was set on this pool by a request of another scope and PHP cannot set it back to the pool's empty value: %w", k, ErrUnresettable)
		}
	}
	return nil
}

func scopeName(scope string) string {
	if scope == "" {
		return "that section"
	}
	return scope
}

// UnresettableProblem is a server-config php_value or php_admin_value of a
// directive PHP cannot reset on the pool that serves its scope: requests
// there are answered 500 until the scope gets a pool of its own.
type UnresettableProblem struct {
	Pos   string // file:line:col
	Key   string
	Scope string // directory, or "" for a narrower section
	Pool  string // the pool that serves the scope
}

// String says what is wrong and how to fix it.
func (p UnresettableProblem) String() string {
	return fmt.Sprintf("%s: %s cannot be reset by PHP to the empty value of pool %s, which also serves requests outside %s: they are answered 500; give %s its own pool (--pool-for %s=ADDR)",
		p.Pos, p.Key, p.Pool, scopeName(p.Scope), scopeName(p.Scope), scopeName(p.Scope))
}

// unresettableProblems lists the server-config lines that set a directive
// PHP cannot reset, on a pool that also serves requests outside their
// scope.
func (st *state) unresettableProblems() []UnresettableProblem {
	sc := st.resolver.server
	if sc == nil {
		return nil
	}
	var out []UnresettableProblem
	check := func(l phpLine) {
		mode, known := phpini.Lookup(l.key)
		if !modphp.Applies(l.kind, mode, known) {
			return // mod_php ignores it: never sent
		}
		scope := l.scope
		p := st.def
		if scope != "" {
			p = st.route(scope, scope)
		}
		b := p.be.Load()
		if b == nil || !b.info.unresettable(l.key) || l.value == "" || exclusiveFor(b.roots, scope) {
			return
		}
		out = append(out, UnresettableProblem{Pos: l.pos.String(), Key: l.key, Scope: scope, Pool: p.addr.String()})
	}
	sets := []*scopeSet{&sc.main}
	for _, v := range sc.vhosts {
		sets = append(sets, &v.scopeSet)
	}
	for _, set := range sets {
		lines := slices.Clone(set.server)
		for _, d := range set.dirs {
			lines = append(lines, d.lines...)
			for _, f := range d.files {
				lines = append(lines, f.lines...)
			}
		}
		for _, f := range set.files {
			lines = append(lines, f.lines...)
		}
		for _, l := range set.locs {
			lines = append(lines, l.lines...)
		}
		for _, l := range lines {
			check(l)
		}
	}
	return out
}
