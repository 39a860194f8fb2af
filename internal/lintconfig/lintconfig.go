package lintconfig

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/modphp-migrate/modphp-migrate/rules"
)

// FileName is the name Find looks for.
const FileName = ".modphp-migrate.yaml"

// maxSize bounds the file read: a configuration is a few lines.
const maxSize = 1 << 20

// Keys are the keys a configuration file may hold, as in the file.
var Keys = []string{"enable", "disable", "fail-on", "severity", "access-file-name", "root"}

// Config is a parsed configuration file. A key the file does not set
// leaves its field at the zero value and absent from Set.
type Config struct {
	// Path is the file read.
	Path string
	// Set holds the keys the file sets, so that `enable: []` (run every
	// rule) differs from no enable key.
	Set map[string]bool
	// Enable and Disable are rule codes, as --enable and --disable.
	Enable, Disable []string
	// FailOn is the lowest severity that makes lint exit 1.
	FailOn rules.Severity
	// Severity maps rule codes to the severity their findings get.
	Severity map[string]rules.Severity
	// AccessFileNames replace AccessFileName, as --access-file-name.
	AccessFileNames []string
	// Root is the --root directory, made absolute against the file's
	// directory when relative.
	Root string
}

// Error is a problem in a configuration file, at a position in it.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	switch {
	case e.Line == 0:
		return e.File + ": " + e.Msg
	case e.Col == 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Find returns the path of the FileName in start's directory (start itself
// when it is a directory) or the nearest directory above it, or "" when
// there is none up to the filesystem root.
func Find(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", fmt.Errorf("finding %s: %w", FileName, err)
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		dir = filepath.Dir(dir)
	}
	for {
		p := filepath.Join(dir, FileName)
		st, err := os.Stat(p)
		switch {
		case err == nil && !st.IsDir():
			return p, nil
		case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) && !isNotDir(err):
			return "", fmt.Errorf("finding %s: %w", FileName, err)
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", nil
		}
		dir = up
	}
}

func isNotDir(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "not a directory")
}

// Load reads and parses the configuration file at path.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading configuration %s: %w", path, err)
	}
	if len(data) > maxSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("larger than %d bytes", maxSize)}
	}
	return Parse(path, data)
}

// yamlLine finds the line number in a YAML library error message.
var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// Parse parses data, the contents of the file at path (which names the
// file in errors and anchors a relative root).
func Parse(path string, data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		e := &Error{File: path, Msg: err.Error()}
		if m := yamlLine.FindStringSubmatch(e.Msg); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = strings.TrimPrefix(e.Msg, m[0])
		}
		return nil, e
	}
	c := &Config{Path: path, Set: map[string]bool{}}
	if len(doc.Content) == 0 {
		return c, nil // empty file
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, errAt(path, top, "want a mapping of keys (%s)", strings.Join(Keys, ", "))
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if err := c.set(k, v); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func errAt(path string, n *yaml.Node, format string, args ...any) *Error {
	return &Error{File: path, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)}
}

// set reads one top-level key.
func (c *Config) set(k, v *yaml.Node) error {
	if k.Kind != yaml.ScalarNode {
		return errAt(c.Path, k, "want a key (%s)", strings.Join(Keys, ", "))
	}
	key := k.Value
	if c.Set[key] {
		return errAt(c.Path, k, "%s is set twice", key)
	}
	if v.Kind == yaml.AliasNode {
		return errAt(c.Path, v, "%s: YAML aliases are not supported", key)
	}
	var err error
	switch key {
	case "enable":
		c.Enable, err = c.codes(key, v)
	case "disable":
		c.Disable, err = c.codes(key, v)
	case "fail-on":
		c.FailOn, err = c.severity(key, v)
	case "severity":
		c.Severity, err = c.severities(v)
	case "access-file-name":
		c.AccessFileNames, err = c.names(key, v)
	case "root":
		c.Root, err = c.root(v)
	default:
		return errAt(c.Path, k, "unknown key %q (want %s)", key, strings.Join(Keys, ", "))
	}
	if err != nil {
		return err
	}
	c.Set[key] = true
	return nil
}

// scalar returns v's value when v is a plain or quoted scalar.
func (c *Config) scalar(key string, v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", errAt(c.Path, v, "%s: want a single value", key)
	}
	return v.Value, nil
}

// list returns the values of a scalar (split at commas, as the flags are)
// or of a sequence of scalars, each with its node.
func (c *Config) list(key string, v *yaml.Node) ([]string, []*yaml.Node, error) {
	var items []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return nil, nil, nil
		}
		items = []*yaml.Node{v}
	case yaml.SequenceNode:
		items = v.Content
	default:
		return nil, nil, errAt(c.Path, v, "%s: want a value or a list", key)
	}
	var vals []string
	var nodes []*yaml.Node
	for _, it := range items {
		if it.Kind != yaml.ScalarNode {
			return nil, nil, errAt(c.Path, it, "%s: want a list of values", key)
		}
		for _, s := range strings.Split(it.Value, ",") {
			vals = append(vals, strings.TrimSpace(s))
			nodes = append(nodes, it)
		}
	}
	return vals, nodes, nil
}

func (c *Config) codes(key string, v *yaml.Node) ([]string, error) {
	vals, nodes, err := c.list(key, v)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for i, s := range vals {
		if err := rules.CheckCodes([]string{s}); err != nil {
			return nil, errAt(c.Path, nodes[i], "%s: %v", key, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func (c *Config) severity(key string, v *yaml.Node) (rules.Severity, error) {
	s, err := c.scalar(key, v)
	if err != nil {
		return "", err
	}
	sev, err := rules.ParseSeverity(s)
	if err != nil {
		return "", errAt(c.Path, v, "%s: %v", key, err)
	}
	return sev, nil
}

func (c *Config) severities(v *yaml.Node) (map[string]rules.Severity, error) {
	if v.Kind != yaml.MappingNode {
		return nil, errAt(c.Path, v, "severity: want a mapping of rule codes to severities (MPM1004: error)")
	}
	out := map[string]rules.Severity{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, errAt(c.Path, k, "severity: want a rule code")
		}
		r, ok := rules.Lookup(k.Value)
		if !ok {
			return nil, errAt(c.Path, k, "severity: %v", rules.CheckCodes([]string{k.Value}))
		}
		if _, dup := out[r.Code]; dup {
			return nil, errAt(c.Path, k, "severity: %s is set twice", r.Code)
		}
		sev, err := c.severity("severity: "+r.Code, val)
		if err != nil {
			return nil, err
		}
		out[r.Code] = sev
	}
	return out, nil
}

func (c *Config) names(key string, v *yaml.Node) ([]string, error) {
	vals, nodes, err := c.list(key, v)
	if err != nil {
		return nil, err
	}
	for i, s := range vals {
		if s == "" || strings.ContainsRune(s, '/') || s == "." || s == ".." {
			return nil, errAt(c.Path, nodes[i], "%s: %q is not a file name", key, s)
		}
	}
	return vals, nil
}

func (c *Config) root(v *yaml.Node) (string, error) {
	s, err := c.scalar("root", v)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", errAt(c.Path, v, "root: want a directory")
	}
	if !filepath.IsAbs(s) {
		s = filepath.Join(filepath.Dir(c.Path), s)
	}
	return s, nil
}
