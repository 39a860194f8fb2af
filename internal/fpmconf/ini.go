package fpmconf

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// INI is a php.ini and the files of its scan directory, read as PHP's
// php_init_config reads them at startup.
type INI struct {
	// Files are the files read, php.ini first.
	Files []string
	// Settings holds the directives by name (case-sensitive, as PHP keys
	// them), the last file and line winning.
	Settings map[string]Setting
	// Sections are the [PATH=…] and [HOST=…] sections, recorded but not
	// applied: PHP applies them per request for matching scripts or hosts.
	Sections []*INISection
	// Extensions are the extension= values and ZendExtensions the
	// zend_extension= values, in order; PHP loads them instead of storing
	// them as settings.
	Extensions, ZendExtensions []Setting
	// Diagnostics are the problems found.
	Diagnostics []Diagnostic
}

// INISection is a [PATH=dir] or [HOST=name] section of a php.ini.
type INISection struct {
	// Kind is "PATH" or "HOST"; Name the directory (trailing slashes
	// removed) or the lower-cased host name, as PHP keys the section.
	Kind, Name string
	// Pos is the section header.
	Pos parser.Pos
	// Settings are the section's directives by name.
	Settings map[string]Setting
}

// Get returns the value php.ini and the scan directory give key.
func (i *INI) Get(key string) (string, bool) {
	if i == nil {
		return "", false
	}
	s, ok := i.Settings[key]
	return s.Value, ok
}

// LoadINI reads the php.ini at path (none when path is "") and then the
// *.ini files of scanDir, a list of directories separated by ':' like
// PHP_INI_SCAN_DIR, each sorted by name. ${NAME} looks in the settings read
// so far; the environment is taken as empty. The error is only for a php.ini
// that cannot be read; problems inside the files are INI.Diagnostics.
func LoadINI(path, scanDir string) (*INI, error) {
	return LoadINIOptions(path, scanDir, Options{})
}

// LoadINIOptions is LoadINI with Options.Getenv as the environment for
// ${NAME} and Options.Root to read the files (path and scanDir as opened);
// the other options do not apply to php.ini.
func LoadINIOptions(path, scanDir string, opt Options) (*INI, error) {
	ini := &INI{Settings: map[string]Setting{}}
	if path != "" {
		src, err := opt.Root.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		ini.parse(path, string(src), opt)
	}
	for _, dir := range strings.Split(scanDir, ":") {
		if dir == "" {
			continue
		}
		ents, err := opt.Root.ReadDir(dir)
		if err != nil {
			// php_init_config skips a scan directory it cannot open.
			ini.Diagnostics = append(ini.Diagnostics, Diagnostic{Pos: parser.Pos{File: dir}, Severity: SeverityWarning,
				Message: fmt.Sprintf("cannot read the scan directory: %v", unwrapPath(err))})
			continue
		}
		names := make([]string, 0, len(ents))
		for _, e := range ents {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		for _, name := range names {
			if filepath.Ext(name) != ".ini" {
				continue
			}
			p := filepath.Join(dir, name)
			if fi, err := opt.Root.Stat(p); err != nil || !fi.Mode().IsRegular() {
				continue
			}
			src, err := opt.Root.ReadFile(p)
			if err != nil {
				ini.Diagnostics = append(ini.Diagnostics, Diagnostic{Pos: parser.Pos{File: p}, Severity: SeverityWarning,
					Message: fmt.Sprintf("cannot read: %v", unwrapPath(err))})
				continue
			}
			ini.parse(p, string(src), opt)
		}
	}
	return ini, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parse applies one file like php_ini_parser_cb.
func (ini *INI) parse(path, src string, opt Options) {
	ini.Files = append(ini.Files, path)
	var section *INISection
	lookup := func(name string) (string, bool) {
		if s, ok := ini.Settings[name]; ok {
			return s.Value, true
		}
		if opt.Getenv != nil {
			return opt.Getenv(name)
		}
		return "", false
	}
	lines := newLineIndex(src)
	serr := parseINI(src, lookup, func(ev iniEvent) {
		pos := lines.pos(path, ev.off)
		for _, name := range ev.unset {
			ini.Diagnostics = append(ini.Diagnostics, Diagnostic{Pos: pos, Severity: SeverityWarning,
				Message: fmt.Sprintf("${%s} is not set here; PHP takes it from the environment and uses \"\" when it is not set", name)})
		}
		switch ev.kind {
		case evSection:
			section = nil
			kind := ""
			if len(ev.key) >= 4 && strings.EqualFold(ev.key[:4], "PATH") {
				kind = "PATH"
			} else if len(ev.key) >= 4 && strings.EqualFold(ev.key[:4], "HOST") {
				kind = "HOST"
			}
			if kind == "" {
				return
			}
			name := strings.TrimRight(ev.key[4:], `/\`)
			name = strings.TrimLeft(name, "= \t")
			if kind == "HOST" {
				name = strings.ToLower(name)
			}
			if name == "" {
				return
			}
			section = &INISection{Kind: kind, Name: name, Pos: pos, Settings: map[string]Setting{}}
			ini.Sections = append(ini.Sections, section)
		case evEntry:
			s := Setting{Value: ev.value, Pos: pos}
			switch {
			case section != nil:
				section.Settings[ev.key] = s
			case strings.EqualFold(ev.key, "extension"):
				ini.Extensions = append(ini.Extensions, s)
			case strings.EqualFold(ev.key, "zend_extension"):
				ini.ZendExtensions = append(ini.ZendExtensions, s)
			default:
				ini.Settings[ev.key] = s
			}
		}
	})
	if serr != nil {
		ini.Diagnostics = append(ini.Diagnostics, Diagnostic{Pos: lines.pos(path, serr.off), Severity: SeverityError,
			Message: serr.msg + "; PHP ignores the rest of the file"})
	}
}

// lineIndex turns byte offsets into lines and columns.
type lineIndex struct{ starts []int }

func newLineIndex(src string) lineIndex {
	starts := []int{0}
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '\n':
			starts = append(starts, i+1)
		case '\r':
			// PHP's scanner counts "\r" and "\r\n" as one line end.
			if i+1 < len(src) && src[i+1] == '\n' {
				i++
			}
			starts = append(starts, i+1)
		}
	}
	return lineIndex{starts}
}

func (x lineIndex) pos(file string, off int) parser.Pos {
	i := sort.Search(len(x.starts), func(i int) bool { return x.starts[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return parser.Pos{File: file, Line: i + 1, Col: off - x.starts[i] + 1}
}
