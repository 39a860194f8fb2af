package parser

import (
	"strings"
	"testing"
)

// TestOptionsWalk: whether httpd's directory walk follows symlinks, after
// the server's defaults and the Options lines of the sections it merges
// (core.c set_options, request.c core_opts_merge).
func TestOptionsWalk(t *testing.T) {
	for _, c := range []struct {
		lines []string // "|" separates merged sections; "," lines of one
		want  bool
	}{
		{nil, true},
		{[]string{"None"}, false},
		{[]string{"Indexes"}, false},
		{[]string{"+Indexes"}, true},
		{[]string{"-FollowSymLinks"}, false},
		{[]string{"None", "+FollowSymLinks"}, true},
		{[]string{"All"}, true},
		{[]string{"FollowSymLinks SymLinksIfOwnerMatch"}, false},
		{[]string{"+SymLinksIfOwnerMatch"}, false},
		{[]string{"SymLinksIfOwnerMatch", "+FollowSymLinks -SymLinksIfOwnerMatch"}, true},
		{[]string{"-FollowSymLinks", "Indexes"}, false},
		{[]string{"-FollowSymLinks", "Indexes FollowSymLinks"}, true},
		{[]string{"Indexes,+FollowSymLinks"}, true},
		{[]string{"FollowSymLinks,-FollowSymLinks"}, false},
		// A relative line's changes carry on through an absolute one
		// only until the absolute one replaces them.
		{[]string{"None", "+Indexes"}, false},
		{[]string{"None +FollowSymLinks"}, true},
		{[]string{"FollowSymLinks", "-Indexes", ""}, true},
		// Lines httpd rejects.
		{[]string{"-Indexes FollowSymLinks"}, true},
		{[]string{"Bogus"}, false}, // httpd cleared the options first
	} {
		o := ServerOptions()
		for _, sec := range c.lines {
			var so Options
			for _, line := range strings.Split(sec, ",") {
				_ = so.Apply(strings.Fields(line))
			}
			o = o.Merge(so)
		}
		if got := o.FollowsSymLinks(); got != c.want {
			t.Errorf("%q: FollowsSymLinks() = %v, want %v", c.lines, got, c.want)
		}
	}
}

// TestOptionsApplyErrors: the lines httpd refuses.
func TestOptionsApplyErrors(t *testing.T) {
	for line, bad := range map[string]bool{
		"-Indexes FollowSymLinks": true, "Indexes -FollowSymLinks": true, "+None": true,
		"Indexes None": true, "Bogus": true, "None +FollowSymLinks": false, "All -Indexes": false,
		"indexes FOLLOWSYMLINKS": false, "": false,
	} {
		var o Options
		if err := o.Apply(strings.Fields(line)); (err != nil) != bad {
			t.Errorf("Apply(%q) = %v, want error %v", line, err, bad)
		}
	}
}

// FuzzOptionsApply: an Options line httpd accepts either replaces what
// the walk had (its first word has no + or -) or changes only the options
// it names.
func FuzzOptionsApply(f *testing.F) {
	f.Add("None +FollowSymLinks")
	f.Add("-FollowSymLinks +Indexes")
	f.Add("Indexes SymLinksIfOwnerMatch")
	f.Fuzz(func(t *testing.T, line string) {
		var o Options
		args := strings.Fields(line)
		if o.Apply(args) != nil || len(args) == 0 {
			return
		}
		a, b := ServerOptions(), ServerOptions().Merge(Options{opts: optAll | optSymOwner | optMulti, set: true})
		ma, mb := a.Merge(o), b.Merge(o)
		if c := args[0][0]; c != '+' && c != '-' {
			if ma != mb {
				t.Fatalf("%q: absolute line merged to %+v and %+v", line, ma, mb)
			}
			return
		}
		named := uint16(0)
		for _, w := range args {
			named |= optionBits[strings.ToLower(w[1:])]
		}
		if ma.opts&^named != a.opts&^named || mb.opts&^named != b.opts&^named {
			t.Fatalf("%q: changed options it does not name: %+v %+v", line, ma, mb)
		}
	})
}
