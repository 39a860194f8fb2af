package rules

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"sync/atomic"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
)

// Severity says how bad a finding is.
type Severity string

// The severities, from worst to mildest.
const (
	// Error: the site will break, or a hole opens, after the switch to php-fpm
	// (or it is already broken today).
	Error Severity = "error"
	// Warning: the site will silently behave differently.
	Warning Severity = "warning"
	// Info: worth knowing, nothing changes.
	Info Severity = "info"
)

// Rank orders severities: Error 3, Warning 2, Info 1, anything else 0.
func (s Severity) Rank() int {
	switch s {
	case Error:
		return 3
	case Warning:
		return 2
	case Info:
		return 1
	}
	return 0
}

// Origin says whether a finding is caused by the switch to php-fpm or is
// already so today, under mod_php.
type Origin string

// The origins.
const (
	// Switch: true under mod_php, different after the move to php-fpm.
	Switch Origin = "switch"
	// Today: already so under mod_php (a guard that never matches, PHP
	// running in an upload directory, a directory that does not exist, a
	// configuration problem); at most a warning, and its message says so.
	Today Origin = "today"
)

// ParseSeverity reads "error", "warning" or "info".
func ParseSeverity(s string) (Severity, error) {
	switch v := Severity(s); v {
	case Error, Warning, Info:
		return v, nil
	}
	return "", fmt.Errorf("unknown severity %q (want error, warning or info)", s)
}

// Doc is a rule's documentation, rendered by modphp-migrate explain, the
// rules list and docs/rules/CODE.md.
type Doc struct {
	// Text explains what the rule finds and why it matters, in Markdown
	// paragraphs. The first sentence is the summary.
	Text string
	// Before is an Apache configuration snippet the rule reports.
	Before string
	// After is the same snippet fixed.
	After string
	// Since is the modphp-migrate release that introduced the rule (a
	// release section of CHANGELOG.md), or "unreleased" until that release
	// is cut.
	Since string
}

// Rule is one check. Rules are values; the engine runs them in code order.
type Rule struct {
	// Code is stable and never reused, e.g. "MPM1004".
	Code string
	// Title is a lowercase noun phrase, e.g. "php_value without mod_php".
	Title string
	// Severity is the default severity of the rule's diagnostics.
	Severity Severity
	// Origin is the default origin of the rule's diagnostics ("" means
	// Switch).
	Origin Origin
	// readsTree marks the loader's problems (MPM0001–MPM0009): a tree lint
	// could not read as httpd does leaves every other answer incomplete,
	// so their errors stay errors although their origin is Today.
	readsTree bool
	// Doc is the rule's documentation.
	Doc Doc
	// Run reports the rule's diagnostics through the pass. Nil for codes the
	// engine itself reports (suppression problems).
	Run func(*Pass)
	// NeedsFS is true for rules that walk the filesystem beyond the
	// configuration (skipped by Options.NoPermissions).
	NeedsFS bool
	// Directives are the directive names Run looks up in the index, so
	// that one walk of the tree indexes them all (others are indexed on
	// first use, with a walk of their own).
	Directives []string
	// Plan is true for rules that take fixes from the migration plan
	// (facts.Placement): the engine starts building it while the index is
	// built and the other rules run, so that it is ready when asked for.
	Plan bool
}

// Related is a secondary position of a diagnostic: the other line involved,
// or one step of the Include chain that led to the file.
type Related struct {
	Pos     parser.Pos `json:"pos"`
	Message string     `json:"message"`
}

// Diagnostic is one finding.
type Diagnostic struct {
	// Pos is where the finding is: file, line and column. Line 0 means the
	// file or directory as a whole (permissions).
	Pos parser.Pos
	// EndLine is the last physical line of the directive (0 = Pos.Line).
	EndLine int
	// Code, Severity and Origin come from the rule unless the rule sets
	// them. A Today finding is at most a Warning (Report caps it).
	Code     string
	Severity Severity
	Origin   Origin
	// Message is lowercase and says what to do.
	Message string
	// Related positions: the other line involved, the Include chain.
	Related []Related
	// Fix is optional replacement configuration text.
	Fix string
	// FixReplaces is true when Fix replaces the finding's own lines (Pos.Line
	// through EndLine of Pos.File). When false, Fix belongs elsewhere (a
	// php-fpm pool, .user.ini, shell commands), as the message says.
	FixReplaces bool
}

// Options tune a run.
type Options struct {
	// Enable, when non-empty, runs only these codes.
	Enable []string
	// Disable skips these codes.
	Disable []string
	// NoPermissions skips the rules that walk document roots (MPM1003).
	NoPermissions bool
	// MaxExamples bounds the example paths of aggregated findings (0 means
	// the default, 5; negative means none).
	MaxExamples int
	// Walked, when set, is incremented for every filesystem entry the
	// permission walk looks at, so a caller can show progress.
	Walked *atomic.Int64
	// FPM is php-fpm's configuration and php.ini (lint --fpm-config); nil
	// when there is none, and the rules that need it check Apache alone.
	FPM *FPM
	// HTTPDVersion is the httpd version given with lint --httpd-version,
	// "" when not given (MPM2011 then relies on <IfVersion> alone).
	HTTPDVersion string
	// MaxWalk bounds the directory entries the permission walk looks at
	// in all trees together (0 means parser.DefaultMaxWalk, the bound of
	// the loader's search for access files).
	MaxWalk int64
	// FS, when set, is read instead of this machine's filesystem for the
	// files rules look at (document roots, wrapper scripts, /etc/passwd):
	// the path /a/b on this machine is a/b in FS. The configuration itself
	// is read by the parser.
	FS fs.FS
}

// fs returns the filesystem rules read: FS, else this machine's, under
// the loaded tree's --root when it has one.
func (o *Options) fs(cfg *parser.Config) facts.FS {
	if o.FS != nil {
		return facts.FromFS(o.FS)
	}
	if cfg != nil {
		return facts.InRoot(cfg.FS())
	}
	return facts.OS()
}

// FPM is php-fpm's side of the server: its configuration and the php.ini
// its pools start from (Options.FPM).
type FPM = facts.FPM

// LoadFPM reads php-fpm's configuration at path (as opened: already under
// root) and the php.ini beside it; see FPM.
func LoadFPM(root, path string) (*FPM, error) { return facts.LoadFPM(root, path) }

// FindFPMConfig returns php-fpm.conf under root (as opened, i.e. with the
// root prefix), or "" when there is none: /etc/php/*/fpm/php-fpm.conf with
// the highest version, else the usual places of other distributions.
func FindFPMConfig(root string) string { return facts.FindFPMConfig(root) }

// maxWalk returns MaxWalk or its default.
func (o *Options) maxWalk() int64 {
	if o == nil || o.MaxWalk <= 0 {
		return parser.DefaultMaxWalk
	}
	return o.MaxWalk
}

// maxExamples returns MaxExamples, its default 5 for 0, or 0 for a
// negative value (no examples).
func (o *Options) maxExamples() int {
	switch {
	case o == nil || o.MaxExamples == 0:
		return 5
	case o.MaxExamples < 0:
		return 0
	}
	return o.MaxExamples
}

// Pass is what a rule sees: the tree in both views, the options, and Report.
type Pass struct {
	// Rule is the rule being run.
	Rule *Rule
	// Today is the server as configured now.
	Today *parser.Config
	// After is the same tree with mod_php removed.
	After *parser.Config
	// Options of the run (never nil).
	Options *Options

	report func(Diagnostic)
	ctx    context.Context // the run's; rules that take long check it
	facts  *facts.Facts    // what the rules of the run share
}

// Report records a diagnostic. Code, Severity and Origin default to the
// rule's (see Diagnostic.Finish).
func (p *Pass) Report(d Diagnostic) {
	if d.Code == "" {
		d.Code = p.Rule.Code
	}
	if d.Severity == "" {
		d.Severity = p.Rule.Severity
	}
	if d.Origin == "" {
		d.Origin = p.Rule.Origin
	}
	d.finish(!p.Rule.readsTree)
	p.report(d)
}

// todaySuffix ends the message of a Today finding that does not say so.
const todaySuffix = " (already so today, under mod_php)"

// finish applies the origin policy: no origin means Switch; a Today
// finding is at most a warning, and its message says it is already so —
// except the loader's own problems (capped false), which keep httpd's
// wording and severity.
func (d *Diagnostic) finish(capped bool) {
	if d.Origin == "" {
		d.Origin = Switch
	}
	if d.Origin != Today || !capped {
		return
	}
	if d.Severity == Error {
		d.Severity = Warning
	}
	if !strings.Contains(d.Message, "today") {
		d.Message += todaySuffix
	}
}

// Reportf reports a diagnostic at node n, with n's Include chain as related
// positions after the given ones.
func (p *Pass) Reportf(n *parser.Node, related []Related, format string, args ...any) {
	p.Report(Diagnostic{
		Pos:     n.Pos,
		EndLine: n.EndLine,
		Message: fmt.Sprintf(format, args...),
		Related: append(related, includeChain(n)...),
	})
}
