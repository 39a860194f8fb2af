// Package facts is what the rules of one run know about the server: the
// index of both views (the same node today and after the switch), the
// answers several rules share — URL routes and handlers to php-fpm,
// restrictive lines, pools, served document roots — and the files rules
// read. Shared answers are built on first use, once, and are safe for
// rules running concurrently. The configuration's own answers (virtual
// host, DocumentRoot, aliases, in effect) are the parser model's; this
// package only combines the two views.
package facts

import (
	"sync"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
	"github.com/modphp-migrate/modphp-migrate/internal/migrate"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// Facts is the shared knowledge of one run.
type Facts struct {
	// Today and After are the two views (never nil; the same config when
	// only one was loaded).
	Today, After *parser.Config
	// FPM is php-fpm's configuration, nil when there is none.
	FPM *FPM
	// FS is where rules read files (document roots, wrappers, /etc/passwd).
	FS FS

	index       func() *Index
	routes      func() []*Route
	handlers    func() []*Handler
	restrictive func() []*Entry
	served      func() []ServedRoot
	plan        func() *migrate.Plan
	planIndex   func() *planIndex
	servedExts  func() map[string]map[string]bool
}

// Directives are the directive names the shared answers look up; the
// engine indexes them with the rules' own in one walk.
var Directives = []string{
	"proxypassmatch", "proxypass", "rewriterule", "sethandler", "addhandler",
	"require", "deny", "authtype", "authuserfile", "authbasicprovider",
	"php_flag", "php_admin_flag", "php_value", "php_admin_value",
}

// New returns the facts of a run over the two views. names (lower-case)
// are indexed in the first walk of both views; others on first use.
func New(today, after *parser.Config, fpm *FPM, fsys FS, names map[string]bool) *Facts {
	if fsys == nil {
		fsys = OS()
	}
	f := &Facts{Today: today, After: after, FPM: fpm, FS: fsys}
	f.index = sync.OnceValue(func() *Index { return Build(today, after, names) })
	f.routes = sync.OnceValue(f.findRoutes)
	f.handlers = sync.OnceValue(f.findHandlers)
	f.restrictive = sync.OnceValue(f.findRestrictive)
	f.served = sync.OnceValue(f.findServedRoots)
	f.plan = sync.OnceValue(f.buildPlan)
	f.planIndex = sync.OnceValue(f.buildPlanIndex)
	f.servedExts = sync.OnceValue(f.findServedExts)
	return f
}

// Index returns the index of both views, built on first use.
func (f *Facts) Index() *Index { return f.index() }

// VHostOf returns the virtual host of n in the Today view, else in the
// After view (parser.Config.VHostOf), nil for the main server.
func (f *Facts) VHostOf(n *parser.Node) *parser.VHost {
	if vh := f.Today.VHostOf(n); vh != nil {
		return vh
	}
	return f.After.VHostOf(n)
}

// SameVHost compares virtual hosts across the two views (each view has
// its own VHost values).
func SameVHost(a, b *parser.VHost) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Pos == b.Pos
}

// Pools returns the php-fpm pools, nil without a php-fpm configuration.
func (f *Facts) Pools() []*fpmconf.Pool {
	if f.FPM == nil || f.FPM.Config == nil {
		return nil
	}
	return f.FPM.Config.Pools
}

// INI returns the php.ini of the pools, or nil.
func (f *Facts) INI() *fpmconf.INI {
	if f.FPM == nil {
		return nil
	}
	return f.FPM.INI
}
