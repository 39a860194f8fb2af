package parser

import (
	"fmt"
	"strings"
)

// httpd's OPT_* bits (include/http_core.h).
const (
	optIndexes     = 1
	optIncludes    = 2
	optSymLinks    = 4
	optExecCGI     = 8
	optIncWithExec = 32
	optSymOwner    = 64
	optMulti       = 128
	optAll         = optIndexes | optIncludes | optIncWithExec | optSymLinks | optExecCGI
)

// Options is what httpd's directory walk keeps of the Options directive
// (request.c core_opts_t): the options in effect and the +/- changes
// that still apply to a later relative Options. As a section's own
// Options (DirSection.Options) the zero value is a section without the
// directive; as the walk's state, start from ServerOptions.
type Options struct {
	opts, add, remove uint16
	// set is an absolute Options (no +/-): it replaces what was in
	// effect, httpd's OPT_UNSET cleared.
	set bool
}

// ServerOptions returns the Options of a server's defaults before any
// Options line: FollowSymLinks (core.c create_core_dir_config).
func ServerOptions() Options { return Options{opts: optSymLinks} }

// optionBits names the options of the Options directive.
var optionBits = map[string]uint16{
	"indexes": optIndexes, "includes": optIncludes | optIncWithExec, "includesnoexec": optIncludes,
	"followsymlinks": optSymLinks, "symlinksifownermatch": optSymOwner, "execcgi": optExecCGI,
	"multiviews": optMulti, "runscripts": optMulti | optExecCGI,
}

// Apply reads one Options line of the section or access file o belongs
// to, as core.c set_options does: words with + or - change what is
// inherited, a first word without them (or None, All) replaces it. A line
// httpd rejects returns an error and leaves o as far as httpd got.
func (o *Options) Apply(args []string) error {
	first, merge, allNone := true, false, false
	for _, w := range args {
		action := byte(0)
		if w != "" && (w[0] == '+' || w[0] == '-') {
			action, w = w[0], w[1:]
			if !merge && !first && !allNone {
				return fmt.Errorf("either all Options must start with + or -, or no Option may")
			}
			merge = true
		} else if first {
			o.opts, o.set = 0, true
		} else if merge {
			return fmt.Errorf("either all Options must start with + or -, or no Option may")
		}
		opt, ok := optionBits[strings.ToLower(w)]
		switch lw := strings.ToLower(w); {
		case lw == "none" || lw == "all":
			if !first || merge {
				return fmt.Errorf("'Options %s' must be the first option given, without + or -", w)
			}
			opt, ok, allNone = 0, true, true
			if lw == "all" {
				opt = optAll
			}
		case !ok:
			return fmt.Errorf("illegal option %s", w)
		}
		switch action {
		case '-':
			o.remove |= opt
			o.add &^= opt
			o.opts &^= opt
		case '+':
			o.add |= opt
			o.remove &^= opt
			o.opts |= opt
		default:
			o.opts |= opt
		}
		first = false
	}
	return nil
}

// Merge returns the walk's Options o after a section or access file
// whose own Options are sec (request.c core_opts_merge, also how a
// virtual host's defaults merge onto the main server's): an absolute
// Options replaces o, a relative one applies its +/- changes.
func (o Options) Merge(sec Options) Options {
	if sec.set {
		return Options{opts: sec.opts, add: sec.add, remove: sec.remove, set: true}
	}
	o.add = o.add&^sec.remove | sec.add
	o.remove = o.remove&^sec.add | sec.remove
	o.opts = o.opts&^o.remove | o.add
	return o
}

// FollowsSymLinks reports whether FollowSymLinks is in effect without
// SymLinksIfOwnerMatch: then httpd's directory walk stats nothing past
// the directory and takes the request's existing file for one more
// directory level (DirSections.Walk's toFile).
func (o Options) FollowsSymLinks() bool {
	return o.opts&(optSymLinks|optSymOwner) == optSymLinks
}
