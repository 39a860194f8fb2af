package rules

import (
	"github.com/modphp-migrate/modphp-migrate/rules/internal/text"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
)

// fpmPathInfo is MPM2010: cgi.fix_pathinfo with a relaxed
// security.limit_extensions, and PHP files the pool will refuse.
var fpmPathInfo = register(&Rule{
	Code:     "MPM2010",
	Title:    "fix_pathinfo with relaxed limit_extensions",
	Severity: Error,
	Doc: Doc{
		Text: `Checks each php-fpm pool's ` + "`security.limit_extensions`" + ` against ` + "`cgi.fix_pathinfo`" + `, and the document roots for PHP files the pool will refuse. Needs php-fpm's configuration (` + "`--fpm-config`" + `).

- **` + "`cgi.fix_pathinfo=1`" + ` (PHP's default) with ` + "`security.limit_extensions`" + ` empty or listing non-PHP extensions** (` + "`.jpg`, `.html`" + `…): when the script named in the request does not exist, php-fpm walks back to the longest existing file and runs it, so ` + "`/uploads/evil.jpg/x.php`" + ` runs an uploaded image as PHP (observed: ` + "`EVIL-EXECUTED sapi=fpm-fcgi`" + ` with ` + "`.php .jpg`" + `, 403 with the default; docs/behaviour.md#b-path-info). An empty value allows every extension. Error.
- **Files with PHP extensions the pool refuses** (` + "`.phtml`, `.php5`" + `… with the default ` + "`.php .phar`" + `) in a document root served by that pool: under mod_php they ran, under php-fpm they answer 403 ` + "`Access denied.`" + ` Warning; skipped with ` + "`--no-permissions`" + `.

Keep ` + "`security.limit_extensions = .php`" + ` (plus only the PHP extensions the site really uses), and set ` + "`cgi.fix_pathinfo = 0`" + ` unless an application needs PATH_INFO.`,
		Before: "; pool.d/site.conf\n[site]\nsecurity.limit_extensions = .php .jpg\n",
		After:  "; pool.d/site.conf\n[site]\nsecurity.limit_extensions = .php\nphp_admin_value[cgi.fix_pathinfo] = 0\n",
		Since:  "0.1.0",
	},
	Run: runFPMPathInfo,
})

// isPHPExt reports whether ext is one PHP files use (.php, .php5,
// .phtml, .phar).
func isPHPExt(ext string) bool {
	ext = strings.ToLower(ext)
	return strings.HasPrefix(ext, ".php") || ext == ".phtml" || ext == ".phar"
}

func runFPMPathInfo(p *Pass) {
	pools := p.facts.Pools()
	ini := p.facts.INI()
	for _, pl := range pools {
		setting, set := pl.Settings["security.limit_extensions"]
		if !set {
			continue // the default .php .phar
		}
		var relaxed []string
		for _, x := range pl.LimitExtensions {
			if !isPHPExt(x) {
				relaxed = append(relaxed, x)
			}
		}
		if len(pl.LimitExtensions) > 0 && len(relaxed) == 0 {
			continue
		}
		on, fixPos := fixPathinfo(ini, pl)
		if !on {
			continue
		}
		var rel []Related
		fixWhere := "PHP's default"
		if fixPos.Line > 0 {
			rel = append(rel, Related{Pos: fixPos, Message: "cgi.fix_pathinfo is 1 here"})
			fixWhere = "set at " + facts.ShortPos(fixPos)
		}
		what := "is empty, so every extension runs"
		if len(pl.LimitExtensions) > 0 {
			what = "allows " + strings.Join(relaxed, " ")
		}
		p.Report(Diagnostic{Pos: setting.Pos, Related: rel, Fix: "security.limit_extensions = .php\n", FixReplaces: setting.Pos.Line > 0,
			Message: "security.limit_extensions of pool " + pl.Name + " " + what + " while cgi.fix_pathinfo is 1 (" + fixWhere + "): /uploads/x.jpg/y.php runs the uploaded x.jpg as PHP; list only .php (and the PHP extensions in use), and set cgi.fix_pathinfo=0 if no application needs PATH_INFO"})
	}
	if !p.Options.NoPermissions {
		refusedFiles(p, pools)
	}
}

// fixPathinfo returns whether cgi.fix_pathinfo is on in the pool's workers
// and where it is set (Line 0: PHP's default, 1).
func fixPathinfo(ini *fpmconf.INI, pl *fpmconf.Pool) (bool, parser.Pos) {
	if v, ok := pl.Values()["cgi.fix_pathinfo"]; ok {
		return iniTrue(v.Value), v.Pos
	}
	if ini != nil {
		if s, ok := ini.Settings["cgi.fix_pathinfo"]; ok {
			return iniTrue(s.Value), s.Pos
		}
	}
	return true, parser.Pos{}
}

// iniTrue reads an INI value after scanning ("1", "", "0", "On"…) as PHP's
// OnUpdateBool does: a number is true when non-zero, "on"/"yes"/"true"
// are true.
func iniTrue(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	switch v {
	case "on", "yes", "true":
		return true
	}
	n, err := strconv.Atoi(v)
	return err == nil && n != 0
}

// refusedFiles reports, per DocumentRoot, the PHP files (by extension)
// that the pool serving it will refuse.
func refusedFiles(p *Pass, pools []*fpmconf.Pool) {
	if p.Options.FPM == nil {
		return
	}
	for _, sr := range p.facts.ServedRoots() {
		dr, pl := sr.Root, sr.Pool
		if pl == nil || len(pl.LimitExtensions) == 0 {
			continue
		}
		counts := map[string]int{}
		_, examples := p.facts.WalkRoot(dr.Path, p.Options.maxExamples(), func(d fs.DirEntry) bool {
			if d.IsDir() || !d.Type().IsRegular() {
				return false
			}
			ext := strings.ToLower(path.Ext(d.Name()))
			if !isPHPExt(ext) || slices.Contains(pl.LimitExtensions, ext) {
				return false
			}
			counts[ext]++
			return true
		})
		if len(counts) == 0 {
			continue
		}
		exts := slices.Sorted(func(yield func(string) bool) {
			for k := range counts {
				if !yield(k) {
					return
				}
			}
		})
		total := 0
		for _, c := range counts {
			total += c
		}
		msg := strconv.Itoa(total) + " " + text.Plural(total, "file", "files") + " with " + strings.Join(exts, " ") + " under " + dr.Path + ": pool " + pl.Name + " refuses to run them (security.limit_extensions " + strings.Join(pl.LimitExtensions, " ") + "), they will answer 403 instead; rename them to .php or list the extensions in the pool"
		if len(examples) > 0 {
			msg += " (e.g. " + strings.Join(examples, ", ") + ")"
		}
		rel := []Related{{Pos: pl.Pos, Message: "pool " + pl.Name}}
		p.Report(Diagnostic{Pos: dr.Node.Pos, EndLine: dr.Node.EndLine, Severity: Warning, Related: append(rel, includeChain(dr.Node)...), Message: msg})
	}
}
