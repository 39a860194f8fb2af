package parser

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// substitute applies ${VAR} to the whole logical line of n before its
// arguments are split (httpd's ap_resolve_env on the line, config.c), then
// re-splits. Lookup: Define first, then the environment (Debian's envvars,
// then the process environment). Undefined names stay literally, with
// httpd's warning; names containing ':' (RewriteMap lookups) stay silently.
func (l *loader) substitute(n *Node) {
	if !strings.Contains(n.Name, "${") && !strings.Contains(n.Raw, "${") {
		return
	}
	if n.Kind == KindSection {
		n.Raw = l.resolve(n.Raw, n.Pos)
		n.Args = splitWords(n.Raw)
		return
	}
	line := l.resolve(n.Name+" "+n.Raw, n.Pos)
	name, rest, _ := nextWord(line)
	n.Name, n.Raw, n.Args = name, rest, splitWords(rest)
}

// resolve expands ${VAR} references in s, reporting undefined names once
// per position with httpd's warning. The values substituted count against
// MaxBytes like the files read: "Define X ${X}${X}", forty times over,
// asks for 2^40 copies.
func (l *loader) resolve(s string, pos Pos) string {
	if l.stopped {
		return s
	}
	left := l.opt.maxBytes() - l.bytesRead
	over := false
	lookup := func(name string) (string, bool) {
		v, ok := l.lookup(name)
		if ok && !over {
			if left -= int64(len(v)); left < 0 {
				over = true
			}
		}
		if over {
			return "", ok
		}
		return v, ok
	}
	out := expandVars(s, lookup, func(name string) {
		key := pos.String() + name
		if !l.warned[key] {
			l.warned[key] = true
			l.diag(pos, SevWarning, "variable", "Config variable ${%s} is not defined", name)
		}
	})
	if over {
		l.stop(pos, fmt.Sprintf("its ${VAR} substitutions, with the files read, make more than %s", FormatBytes(l.opt.maxBytes())), "--max-bytes")
		return s
	}
	l.bytesRead = l.opt.maxBytes() - left
	return out
}

// ExpandVars replaces ${NAME} in s as httpd's ap_resolve_env does: names
// lookup knows are substituted, others stay as written; "$" without "{…}"
// is literal and there is no nesting or default syntax.
func ExpandVars(s string, lookup func(string) (string, bool)) string {
	return expandVars(s, lookup, nil)
}

// expandVars is ExpandVars with a callback for undefined names (not called
// for names containing ':', RewriteMap lookups, which httpd leaves silently).
func expandVars(s string, lookup func(string) (string, bool), undefined func(string)) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 64) // most values are short paths: one allocation
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i+2:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		name := s[i+2 : i+2+j]
		b.WriteString(s[:i])
		if v, ok := lookup(name); ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+3+j])
			if undefined != nil && !strings.Contains(name, ":") {
				undefined(name)
			}
		}
		s = s[i+3+j:]
	}
}

func (l *loader) lookup(name string) (string, bool) {
	if v, ok := l.vars[name]; ok {
		return v, true
	}
	// An assignment envvars does not export stays in the shell that
	// sources it; apache2 never sees it.
	if v, ok := l.envvars[name]; ok && l.exported[name] {
		return v, true
	}
	if l.opt.Env != nil {
		return l.opt.Env(name)
	}
	return os.LookupEnv(name)
}

// readEnvvars reads Debian's envvars: `export NAME=value` lines (and plain
// assignments at the start of a line), with $NAME/${NAME} expanded from
// earlier assignments. Shell control flow is ignored (SUFFIX stays empty).
// It returns the names exported (export NAME=value, or export NAME after
// an assignment): only those reach apache2's environment.
func (l *loader) readEnvvars(path string) map[string]bool {
	exported := map[string]bool{}
	f, err := l.cache.root.Open(path)
	if err != nil {
		return exported
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		export := strings.HasPrefix(line, "export ")
		if !export && (line == "" || line[0] == ' ' || line[0] == '\t') {
			continue
		}
		line = strings.TrimSpace(strings.TrimPrefix(line, "export "))
		eq := strings.IndexByte(line, '=')
		if eq < 0 && export && line != "" && !strings.ContainsAny(line, " \t$[") {
			exported[line] = true
			continue
		}
		if eq <= 0 || strings.ContainsAny(line[:eq], " \t$[") {
			continue
		}
		name, val := line[:eq], strings.Trim(line[eq+1:], `"'`)
		left := l.opt.maxBytes()
		val = os.Expand(val, func(k string) string {
			v := l.envvars[k]
			if left -= int64(len(v)); left < 0 {
				return ""
			}
			return v
		})
		if left < 0 { // A=$A$A, forty times over: not a real envvars
			l.stop(Pos{File: path}, fmt.Sprintf("%s expands to more than %s", name, FormatBytes(l.opt.maxBytes())), "--max-bytes")
			return exported
		}
		l.envvars[name] = val
		if export {
			exported[name] = true
		}
	}
	for name := range exported {
		l.exported[name] = true
	}
	return exported
}
