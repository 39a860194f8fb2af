package rules

import (
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// Problems the loader finds while reading the tree become coded findings,
// one code per parser.Diagnostic.Kind, so that they can be enabled,
// disabled, suppressed and explained like any rule.
var (
	loaderSyntax = register(loaderRule("MPM0001", "syntax", "configuration syntax error", Error,
		`httpd would refuse this configuration, or answer 500 for every request that reads this .htaccess.

The message is the one httpd itself gives (docs/behaviour.md#b-httpd-syntax). Fix the line first: the other rules read the tree as httpd would, and a broken section can hide or misplace what follows it.`,
		"<Directory /var/www/site>\n    AllowOverride All\n</Directry>\n",
		"<Directory /var/www/site>\n    AllowOverride All\n</Directory>\n"))
	loaderInclude = register(loaderRule("MPM0002", "include", "include problem", Error,
		`An Include or IncludeOptional could not be followed: no file matches a wildcard, a file is missing, or the includes recurse.

httpd fails to start on a missing `+"`Include`"+` (docs/behaviour.md#b-httpd-syntax); `+"`IncludeOptional`"+` ignores it. Relative include paths are ServerRoot-relative, not relative to the including file.`,
		"Include sites-enabled/*.conf\n",
		"IncludeOptional sites-enabled/*.conf\n"))
	loaderVariable = register(loaderRule("MPM0003", "variable", "undefined configuration variable", Warning,
		`A ${VAR} is neither set by Define nor present in the environment the tree was loaded with.

httpd keeps the literal text and logs AH00111 (docs/behaviour.md#b-httpd-syntax). On Debian most variables come from /etc/apache2/envvars, which the loader reads; pass others with --define.`,
		"ErrorLog ${APACHE_LOG_DIR}/error.log\n",
		"Define APACHE_LOG_DIR /var/log/apache2\nErrorLog ${APACHE_LOG_DIR}/error.log\n"))
	loaderIO = register(loaderRule("MPM0004", "io", "unreadable file", Error,
		`A configuration or access file exists but could not be read.

For a .htaccess file httpd answers 403 to every request under that directory (AH00529, docs/behaviour.md#b-httpd-syntax). Check the file's owner and mode.`,
		"-rw------- root root .htaccess\n",
		"-rw-r--r-- root root .htaccess\n"))
	loaderBOM = register(loaderRule("MPM0005", "bom", "byte-order mark", Error,
		`The file starts with a UTF-8 byte-order mark.

httpd reads the mark as part of the first directive's name; save the file without it.`,
		"\ufeffServerName example.org\n",
		"ServerName example.org\n"))
	loaderLimit = register(loaderRule("MPM0006", "limit", "httpd limit exceeded", Error,
		`A line, file or include depth exceeds a limit httpd enforces (8190-byte lines, include depth 128), or the tree exceeds a bound of the loader (`+"`--max-files`, `--max-bytes`, `--max-walk`"+`).

The loader reads at most `+"`--max-files`"+` files (100,000) holding at most `+"`--max-bytes`"+` bytes (64MiB) in all — a file counts each time an Include reads it, so a few files that include each other twice over ask for billions of reads — and looks at no more than `+"`--max-walk`"+` directory entries (10,000,000) in the directories Includes list (a directory listed again counts again) and, apart, under the document roots while it searches for .htaccess files.

httpd refuses the configuration over its own limits: split the line or break the include cycle. Over the loader's bounds, reading stops at the Include that crossed them (an error), or the search for .htaccess files stops at the document root it was walking (a warning), and what was not read is not checked: raise the flag the message names if the tree is genuine. `+"`DocumentRoot /`"+` makes the search walk the whole filesystem.`,
		"Include self.conf\n",
		"# (no self-include)\n"))
	loaderOther = register(loaderRule("MPM0009", "", "other loader problem", Warning,
		`The loader reported a problem of a kind this version of the rules does not know.

Upgrade modphp-migrate, or report the message.`,
		"", ""))
)

// loaderRule builds a rule that reports the loader's diagnostics of one kind
// (kind "" takes every kind no other rule claims).
func loaderRule(code, kind, title string, sev Severity, text, before, after string) *Rule {
	return &Rule{
		Code:      code,
		Title:     title,
		Severity:  sev,
		Origin:    Today,
		readsTree: true,
		Doc:       Doc{Text: text, Before: before, After: after, Since: "0.1.0"},
		Run: func(p *Pass) {
			for _, cfg := range []*parser.Config{p.Today, p.After} {
				for _, d := range cfg.Diagnostics {
					if kind == "" && knownKind(d.Kind) || kind != "" && d.Kind != kind {
						continue
					}
					sev := p.Rule.Severity
					switch d.Severity {
					case parser.SevError:
						sev = Error
					case parser.SevWarning:
						sev = Warning
					case parser.SevInfo:
						sev = Info
					}
					var rel []Related
					for _, r := range d.Related {
						rel = append(rel, Related{Pos: r, Message: "related"})
					}
					p.Report(Diagnostic{Pos: d.Pos, Severity: sev, Message: d.Message, Related: rel})
				}
				if p.After == p.Today {
					break
				}
			}
		},
	}
}

func knownKind(k string) bool {
	switch k {
	case "syntax", "include", "variable", "io", "bom", "limit":
		return true
	}
	return false
}
