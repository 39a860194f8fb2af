package rules

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
)

// all is the registry, in code order. Each rule's file adds itself in an
// init function so that the metadata stays next to the code.
var (
	allMu sync.Mutex
	all   []*Rule
)

func register(r *Rule) *Rule {
	allMu.Lock()
	defer allMu.Unlock()
	all = append(all, r)
	slices.SortFunc(all, func(a, b *Rule) int { return strings.Compare(a.Code, b.Code) })
	return r
}

// All returns every rule, in code order.
func All() []*Rule {
	allMu.Lock()
	defer allMu.Unlock()
	return slices.Clone(all)
}

// Lookup returns the rule with the given code (case-insensitive).
func Lookup(code string) (*Rule, bool) {
	for _, r := range All() {
		if strings.EqualFold(r.Code, code) {
			return r, true
		}
	}
	return nil, false
}

// CheckCodes returns an error naming the first code that no rule has.
func CheckCodes(codes []string) error {
	for _, c := range codes {
		if _, ok := Lookup(c); !ok {
			return fmt.Errorf("unknown rule code %q (see modphp-migrate rules)", c)
		}
	}
	return nil
}

// enabled reports whether the options run the rule.
func (o *Options) enabled(r *Rule) bool {
	if len(o.Enable) > 0 && !slices.ContainsFunc(o.Enable, func(c string) bool { return strings.EqualFold(c, r.Code) }) {
		return false
	}
	if slices.ContainsFunc(o.Disable, func(c string) bool { return strings.EqualFold(c, r.Code) }) {
		return false
	}
	if r.NeedsFS && o.NoPermissions {
		return false
	}
	return true
}

// Run runs the enabled rules over a loaded tree and returns their
// diagnostics, suppressions applied, sorted by file, line, column and code,
// without duplicates. The error is for the engine itself failing (a rule
// that panicked); the diagnostics of the other rules are still returned.
func Run(res *parser.Result, opt *Options) ([]Diagnostic, error) {
	return RunContext(context.Background(), res, opt)
}

// RunContext is Run, stopped when ctx is done: rules not yet started are
// skipped, the permission walk stops between directories, and the error
// is ctx's (the diagnostics are then incomplete and nil).
func RunContext(ctx context.Context, res *parser.Result, opt *Options) ([]Diagnostic, error) {
	if opt == nil {
		opt = &Options{}
	}
	if res == nil || (res.Today == nil && res.After == nil) {
		return nil, fmt.Errorf("rules: nothing loaded")
	}
	today, after := res.Today, res.After
	if today == nil {
		today = after
	}
	if after == nil {
		after = today
	}
	var rules []*Rule
	for _, r := range All() {
		if r.Run != nil && opt.enabled(r) {
			rules = append(rules, r)
		}
	}
	st := &state{ctx: ctx, facts: facts.New(today, after, opt.FPM, opt.fs(today), directives(rules))}
	var planned sync.WaitGroup
	if slices.ContainsFunc(rules, func(r *Rule) bool { return r.Plan }) {
		planned.Go(st.facts.StartPlan)
	}
	diags, errs := runAll(rules, st, today, after, opt)
	planned.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	diags = suppress(st.facts.Index(), diags, opt)
	diags = Sort(diags)
	if len(errs) > 0 {
		return diags, fmt.Errorf("rules: %w", joinErrs(errs))
	}
	return diags, nil
}

// runAll runs the rules on GOMAXPROCS workers. The facts they share are
// built once, by whichever rule asks first; diagnostics are collected
// under a lock (their order does not matter: Run sorts them). On the
// 10,000-vhost tree with two CPUs, running them one at a time measured
// no faster (BenchmarkLintTree, interleaved: 152–162 ms in parallel,
// 171–202 ms in sequence on the quietest rounds).
func runAll(rules []*Rule, st *state, today, after *parser.Config, opt *Options) ([]Diagnostic, []error) {
	var (
		mu     sync.Mutex
		groups [][]Diagnostic // each rule's findings, joined at the end
		errs   []error
		next   atomic.Int64
		wg     sync.WaitGroup
	)
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(rules)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(rules) || st.ctx.Err() != nil {
					return
				}
				r := rules[i]
				p := &Pass{Rule: r, Today: today, After: after, Options: opt, ctx: st.ctx, facts: st.facts}
				var own []Diagnostic
				p.report = func(d Diagnostic) { own = append(own, d) }
				err := runRule(r, p)
				mu.Lock()
				groups = append(groups, own)
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, g := range groups {
		n += len(g)
	}
	var diags []Diagnostic
	if n > 0 {
		diags = make([]Diagnostic, 0, n)
	}
	for _, g := range groups {
		diags = append(diags, g...)
	}
	return diags, errs
}

func joinErrs(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}

// runRule calls r.Run, turning a panic into an error: rules must never take
// the whole run down on input nobody foresaw.
func runRule(r *Rule, p *Pass) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("rule %s panicked: %v\n%s", r.Code, v, debug.Stack())
		}
	}()
	r.Run(p)
	return nil
}

// state is shared by the passes of one run.
type state struct {
	ctx   context.Context // the run's; rules that take long check it
	facts *facts.Facts
}

// directives returns the directive names (lower-case) the shared facts
// and the rules look up, so that the index is built in one walk.
func directives(rules []*Rule) map[string]bool {
	names := map[string]bool{}
	for _, n := range facts.Directives {
		names[n] = true
	}
	for _, r := range rules {
		for _, n := range r.Directives {
			names[strings.ToLower(n)] = true
		}
	}
	return names
}

// Sort orders diagnostics by file, line, column, code and message, and drops
// exact duplicates (the same finding reported from both views).
func Sort(diags []Diagnostic) []Diagnostic {
	slices.SortStableFunc(diags, func(a, b Diagnostic) int {
		return cmp.Or(
			strings.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			strings.Compare(a.Code, b.Code),
			strings.Compare(a.Message, b.Message),
		)
	})
	return slices.CompactFunc(diags, func(a, b Diagnostic) bool {
		return a.Pos == b.Pos && a.Code == b.Code && a.Message == b.Message
	})
}

// includeChain turns n's Include chain into related positions, innermost
// first (the Include that pulled in n's file, then the one above it).
func includeChain(n *parser.Node) []Related {
	chain := parser.IncludeChain(n)
	out := make([]Related, 0, len(chain))
	for i := len(chain) - 1; i >= 0; i-- {
		out = append(out, Related{Pos: chain[i].Pos, Message: "included from here"})
	}
	return out
}

// IsAccessFileName reports whether a file of that base name is linted in
// .htaccess context: ".htaccess" or one of the extra AccessFileName names.
func IsAccessFileName(base string, extra []string) bool {
	if base == ".htaccess" {
		return true
	}
	for _, n := range extra {
		if base == n {
			return true
		}
	}
	return false
}
