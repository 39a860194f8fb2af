package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

const dumpUsage = `usage: modphp-migrate dump [flags] [PATH]

Prints what the loader saw in an Apache tree, like apache2ctl -S, -M and
-D DUMP_INCLUDES together: the files read in include order, the loaded
modules, the virtual hosts (with the file:line of each <VirtualHost>),
the .htaccess files httpd would read, and every diagnostic.

PATH is a server directory (apache2.conf, httpd.conf or conf/httpd.conf
is looked for) or a main configuration file; default /etc/apache2, else
/etc/httpd.

Exit codes: 0 loaded without errors, 1 the tree has errors, 2 usage error,
3 the tree could not be read at all.

Flags:
`

// dumpOutput is the JSON shape of dump --format=json (a public interface).
type dumpOutput struct {
	View        string           `json:"view"`
	ServerRoot  string           `json:"server_root"`
	MainFile    string           `json:"main_file"`
	Files       []string         `json:"files"`
	Modules     []string         `json:"modules"`
	MPM         string           `json:"mpm"`
	User        string           `json:"user"`
	Group       string           `json:"group"`
	VHosts      []dumpVHost      `json:"vhosts"`
	AccessFiles []dumpAccessFile `json:"access_files"`
	Diagnostics []dumpDiagnostic `json:"diagnostics"`
}

type dumpVHost struct {
	Addrs         []string `json:"addrs"`
	ServerName    string   `json:"server_name"`
	ServerAliases []string `json:"server_aliases"`
	DocumentRoot  string   `json:"document_root"`
	File          string   `json:"file"`
	Line          int      `json:"line"`
}

type dumpAccessFile struct {
	File          string   `json:"file"`
	Dir           string   `json:"dir"`
	AllowOverride []string `json:"allow_override"`
}

type dumpDiagnostic struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Severity string `json:"severity"`
	Kind     string `json:"kind"`
	Message  string `json:"message"`
}

// dumpFlags are dump's parsed command line.
type dumpFlags struct {
	format string
	path   string
	view   parser.View
	opt    parser.LoadOptions
}

// parseDumpFlags parses dump's arguments; done reports that --help was
// answered or a usage error printed, with the exit code to return.
func parseDumpFlags(args []string, stdout, stderr io.Writer) (f dumpFlags, done bool, code int) {
	fs := pflag.NewFlagSet("dump", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "text", "output format: text or json")
	defines := fs.StringArray("define", nil, "define `NAME` for <IfDefine> (like httpd -D NAME); repeatable")
	root := fs.String("root", "", "resolve the configuration's absolute paths under `DIR` (a copied server tree)")
	view := fs.String("view", "today", "which server to evaluate: today, or after-mod_php (PHP module guards false)")
	version := fs.String("httpd-version", parser.DefaultVersion, "httpd `VERSION` for <IfVersion>")
	access := fs.StringArray("access-file-name", nil, "access file `NAME` (default: AccessFileName, else .htaccess); repeatable")
	noAccess := fs.Bool("no-access-files", false, "do not look for .htaccess files under the document roots")
	var limits loadLimits
	addLoadLimitFlags(fs, &limits, "(the search for .htaccess files)")
	help := fs.BoolP("help", "h", false, "show this help")
	usageErr := func(format string, a ...any) (dumpFlags, bool, int) {
		fmt.Fprintf(stderr, "modphp-migrate dump: "+format+"\n", a...)
		return f, true, exitUsage
	}
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "modphp-migrate dump: %v\n\n%s%s", err, dumpUsage, fs.FlagUsages())
		return f, true, exitUsage
	}
	if *help {
		fmt.Fprint(stdout, dumpUsage+fs.FlagUsages())
		return f, true, exitOK
	}
	if *format != "text" && *format != "json" {
		return usageErr("--format must be text or json, not %q", *format)
	}
	switch *view {
	case "today":
		f.view = parser.Today
	case "after-mod_php":
		f.view = parser.AfterModPHP
	default:
		return usageErr("--view must be today or after-mod_php, not %q", *view)
	}
	if fs.NArg() > 1 {
		return usageErr("one PATH at most")
	}
	if err := limits.check(); err != nil {
		return usageErr("%v", err)
	}
	f.format, f.path = *format, defaultTree()
	if fs.NArg() == 1 {
		f.path = fs.Arg(0)
	}
	f.opt = parser.LoadOptions{Root: *root, Defines: *defines, Version: *version, AccessFileNames: *access, NoAccessFiles: *noAccess}
	limits.apply(&f.opt)
	return f, false, exitOK
}

func runDump(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, done, code := parseDumpFlags(args, stdout, stderr)
	if done {
		return code
	}
	cfg, err := parser.LoadView(f.path, f.view, f.opt)
	if err != nil {
		fmt.Fprintf(stderr, "modphp-migrate dump: %v\n", err)
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, parser.ErrNoConfig) {
			return exitUsage
		}
		return exitInternal
	}
	out := dumpModel(cfg)
	if f.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "modphp-migrate dump: writing output: %v\n", err)
			return exitInternal
		}
	} else if err := writeDumpText(stdout, cfg, out); err != nil {
		fmt.Fprintf(stderr, "modphp-migrate dump: writing output: %v\n", err)
		return exitInternal
	}
	for _, d := range cfg.Diagnostics {
		if d.Severity == parser.SevError {
			return exitFindings
		}
	}
	return exitOK
}

// defaultTree is /etc/apache2, else /etc/httpd.
func defaultTree() string {
	if _, err := os.Stat("/etc/apache2"); err == nil {
		return "/etc/apache2"
	}
	return "/etc/httpd"
}

func dumpModel(c *parser.Config) dumpOutput {
	out := dumpOutput{View: c.View.String(), ServerRoot: c.ServerRoot, MainFile: c.MainFile, MPM: c.MPM, User: c.User, Group: c.Group,
		Files: []string{}, Modules: []string{}, VHosts: []dumpVHost{}, AccessFiles: []dumpAccessFile{}, Diagnostics: []dumpDiagnostic{}}
	for _, f := range c.Files {
		out.Files = append(out.Files, f.Path)
	}
	for _, m := range c.Modules {
		out.Modules = append(out.Modules, m.ID)
	}
	for _, v := range c.VHosts {
		aliases := v.ServerAliases
		if aliases == nil {
			aliases = []string{}
		}
		out.VHosts = append(out.VHosts, dumpVHost{Addrs: v.Addrs, ServerName: v.ServerName, ServerAliases: aliases,
			DocumentRoot: v.DocumentRoot, File: v.Pos.File, Line: v.Pos.Line})
	}
	for _, a := range c.Access {
		out.AccessFiles = append(out.AccessFiles, dumpAccessFile{File: a.File.Path, Dir: a.Dir, AllowOverride: overrideWords(a.Override)})
	}
	for _, d := range c.Diagnostics {
		out.Diagnostics = append(out.Diagnostics, dumpDiagnostic{File: d.Pos.File, Line: d.Pos.Line, Column: d.Pos.Col,
			Severity: string(d.Severity), Kind: d.Kind, Message: d.Message})
	}
	return out
}

// overrideWords spells an effective override as AllowOverride arguments.
func overrideWords(o parser.Override) []string {
	if !o.Set {
		return []string{"(unset: httpd still reads the file)"}
	}
	var w []string
	for _, b := range []struct {
		bit  uint
		name string
	}{{parser.OverrideAuth, "AuthConfig"}, {parser.OverrideFileInfo, "FileInfo"}, {parser.OverrideIndexes, "Indexes"},
		{parser.OverrideLimit, "Limit"}, {parser.OverrideOptions, "Options"}} {
		if o.Mask&b.bit != 0 {
			w = append(w, b.name)
		}
	}
	if o.Mask == parser.OverrideAll {
		w = []string{"All"}
	}
	if len(w) == 0 {
		w = []string{"None"}
	}
	for _, d := range o.List {
		w = append(w, "list:"+d)
	}
	return w
}

// writeDumpText prints the text form; the error is the first failed write.
func writeDumpText(w io.Writer, c *parser.Config, out dumpOutput) error {
	ew := &errWriter{w: w}
	ew.printf("ServerRoot: %q\nView: %s\nMPM: %s\nUser: %s\nGroup: %s\n", out.ServerRoot, out.View, out.MPM, out.User, out.Group)
	ew.printf("Included configuration files:\n")
	for _, f := range c.Files {
		if f.IncludedBy == nil {
			ew.printf("  (*) %s\n", f.Path)
			continue
		}
		d := len(parser.IncludeChain(f.IncludedBy)) + 1
		ew.printf("  %*s(%d) %s\n", 2*d, "", f.IncludedBy.Pos.Line, f.Path)
	}
	ew.printf("Loaded Modules:\n")
	for _, m := range c.Modules {
		kind := "shared"
		if m.Path == "" {
			kind = "static"
		}
		ew.printf(" %s (%s)\n", m.ID, kind)
	}
	ew.printf("VirtualHost configuration:\n")
	for _, v := range out.VHosts {
		ew.printf("%-22s %s (%s:%d) DocumentRoot %q\n", joinAddrs(v.Addrs), v.ServerName, v.File, v.Line, v.DocumentRoot)
		for _, a := range v.ServerAliases {
			ew.printf("%-22s   alias %s\n", "", a)
		}
	}
	ew.printf("Access files:\n")
	for _, a := range out.AccessFiles {
		ew.printf("  %s (AllowOverride %v)\n", a.File, a.AllowOverride)
	}
	if len(c.Diagnostics) > 0 {
		ew.printf("Diagnostics:\n")
		for _, d := range c.Diagnostics {
			ew.printf("%s: %s: %s\n", d.Pos, d.Severity, d.Message)
		}
	}
	return ew.err
}

func joinAddrs(a []string) string {
	s := ""
	for i, x := range a {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}
