package lab_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules"
)

// fileCheckSite is the document root of TestFPMFileCheck: a DokuWiki-style
// script read with PATH_INFO, a script that sends its own 404 page, and
// the site's ErrorDocument.
var fileCheckSite = map[string]string{
	"doku.php":      `<?php echo "script=", $_SERVER["SCRIPT_NAME"], " path_info=", $_SERVER["PATH_INFO"] ?? "", "\n";`,
	"app404.php":    `<?php http_response_code(404); echo "APP-404\n";`,
	"notfound.html": "CUSTOM-404\n",
}

// fileCheckURLs are the requests TestFPMFileCheck compares.
var fileCheckURLs = []string{"/missing.php", "/missing.php/x", "/doku.php", "/doku.php/wiki:syntax", "/app404.php"}

// asModPHP is what Apache + mod_php answers to fileCheckURLs: Apache's 404
// with the ErrorDocument for missing scripts, PATH_INFO for doku.php, and
// the script's own 404 page.
var asModPHP = []string{
	`404 "CUSTOM-404\n"`,
	`404 "CUSTOM-404\n"`,
	`200 "script=/doku.php path_info=\n"`,
	`200 "script=/doku.php path_info=/wiki:syntax\n"`,
	`404 "APP-404\n"`,
}

// TestFPMFileCheck: with Debian's php8.2-fpm.conf handler as packaged, a
// missing script (also with path info) gets php-fpm's 404 "File not
// found." and Apache logs AH01071, where mod_php gave Apache's 404 and the
// ErrorDocument. Each file check MPM2012 accepts restores that: <If "-f
// %{REQUEST_FILENAME}"> inside the <FilesMatch> (also with SCRIPT_FILENAME,
// the quoted form, an && test, around an AddHandler), keeping PATH_INFO
// and the script's own 404; ProxyErrorOverride On also gives Apache's 404
// but replaces the script's own 404 page. The forms MPM2012 does not
// accept fail in their own way: -F recurses and logs AH00125, an <If>
// around the <FilesMatch> leaves the handler unapplied (PHP source
// served), RewriteCond !-f in a <Directory> misses /missing.php/x and in
// server context refuses every script. For each set-up, lint's MPM2012
// reports the handler exactly when missing scripts get "File not found."
// or the check is one it does not accept.
func TestFPMFileCheck(t *testing.T) {
	f := lab.StartFPM(t, lab.FPMConfig{})
	h := `SetHandler "proxy:unix:` + f.Addr + `|fcgi://localhost"`
	files := func(body string) string {
		return "<FilesMatch \".+\\.ph(?:ar|p|tml)$\">\n" + body + "</FilesMatch>\n"
	}
	inIf := func(expr, body string) string { return "<If \"" + expr + "\">\n" + body + "</If>\n" }
	const ed = "ErrorDocument 404 /notfound.html\n"
	const apache404 = `404 "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n</body></html>\n"`
	fileNotFound := `404 "File not found.\n"`
	for _, tc := range []struct {
		name, conf string
		want       []string
		reported   bool   // lint reports MPM2012
		log        string // in Apache's error log
		fixed      bool   // with MPM2012's fixes applied, as under mod_php
	}{
		{"debian", ed + files(h+"\n"), []string{fileNotFound, fileNotFound, asModPHP[2], asModPHP[3], asModPHP[4]}, true, "AH01071: Got error 'Primary script unknown'", true},
		{"addhandler", ed + "AddHandler \"proxy:unix:" + f.Addr + "|fcgi://localhost\" .php\n", []string{fileNotFound, fileNotFound, asModPHP[2], asModPHP[3], asModPHP[4]}, true, "AH01071: Got error 'Primary script unknown'", true},
		{"if-request-filename", ed + files(inIf("-f %{REQUEST_FILENAME}", h+"\n")), asModPHP, false, "", false},
		{"if-script-filename", ed + files(inIf("-f %{SCRIPT_FILENAME}", h+"\n")), asModPHP, false, "", false},
		{"if-quoted", ed + files(inIf("-f '%{REQUEST_FILENAME}'", h+"\n")), asModPHP, false, "", false},
		{"if-and", ed + inIf(`%{REQUEST_FILENAME} =~ /\\.php$/ && -f %{REQUEST_FILENAME}`, h+"\n"), asModPHP, false, "", false},
		{"addhandler-if", ed + inIf("-f %{REQUEST_FILENAME}", "AddHandler \"proxy:unix:"+f.Addr+"|fcgi://localhost\" .php\n"), asModPHP, false, "", false},
		{"error-override", ed + files(h+"\n") + "ProxyErrorOverride On\n", []string{asModPHP[0], asModPHP[1], asModPHP[2], asModPHP[3], `404 "CUSTOM-404\n"`}, false, "", false},
		{"error-override-404", files(h+"\n") + "ProxyErrorOverride On 404\n", []string{apache404, apache404, asModPHP[2], asModPHP[3], apache404}, false, "", false},
		{"if-F", ed + files(inIf("-F %{REQUEST_FILENAME}", h+"\n")), asModPHP, true, "AH00125: Request exceeded the limit of 10 subrequest nesting levels", false},
		{"if-around-files", ed + inIf("-f %{REQUEST_FILENAME}", files(h+"\n")), []string{asModPHP[0], asModPHP[1], "200 " + fmt.Sprintf("%q", fileCheckSite["doku.php"]), asModPHP[0], "200 " + fmt.Sprintf("%q", fileCheckSite["app404.php"])}, true, "", false},
		{"rewrite-directory", ed + files(h+"\n") + "<Directory {{DocRoot}}>\n    RewriteEngine On\n    RewriteCond %{REQUEST_FILENAME} !-f\n    RewriteRule \\.php$ - [R=404]\n</Directory>\n", []string{asModPHP[0], fileNotFound, asModPHP[2], asModPHP[3], asModPHP[4]}, true, "", false},
		{"rewrite-server", ed + files(h+"\n") + "RewriteEngine On\nRewriteCond %{REQUEST_FILENAME} !-f\nRewriteRule \\.php$ - [R=404]\n", []string{asModPHP[0], fileNotFound, asModPHP[0], asModPHP[3], asModPHP[0]}, true, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := lab.StartApache(t, tc.conf)
			writeSite(t, a.DocRoot, fileCheckSite)
			if got := getAll(t, a.URL, fileCheckURLs); !equalRows(got, tc.want) {
				t.Errorf("responses:\n%s\nwant:\n%s\nerror log:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"), a.ErrorLogText())
			}
			if tc.log != "" && !strings.Contains(a.ErrorLogText(), tc.log) {
				t.Errorf("error log lacks %q:\n%s", tc.log, a.ErrorLogText())
			}
			diags := lintFileCheck(t, a.ConfPath)
			if got := len(diags) > 0; got != tc.reported {
				t.Errorf("MPM2012 reported: %v, want %v", got, tc.reported)
			}
			if len(diags) == 1 && diags[0].Fix != "" && !diags[0].FixReplaces {
				// The <FilesMatch> inside <If>: the fix is a whole
				// section to use instead, and the finding an error.
				if diags[0].Severity != rules.Error {
					t.Errorf("severity %s, want error", diags[0].Severity)
				}
				b := lab.StartApache(t, ed+diags[0].Fix)
				writeSite(t, b.DocRoot, fileCheckSite)
				if got := getAll(t, b.URL, fileCheckURLs); !equalRows(got, asModPHP) {
					t.Errorf("with the fix instead of the <If>:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(asModPHP, "\n"))
				}
			}
			if !tc.fixed {
				return
			}
			// The fix as printed, in place of the handler's lines.
			a.Stop()
			a.WriteConf(t, applyFixes(t, a.ConfPath, diags))
			a.Start(t)
			if got := getAll(t, a.URL, fileCheckURLs); !equalRows(got, asModPHP) {
				t.Errorf("after the fix:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(asModPHP, "\n"))
			}
			if d := lintFileCheck(t, a.ConfPath); len(d) > 0 {
				t.Errorf("MPM2012 still reports the fixed configuration")
			}
		})
	}
	t.Run("mod_php", func(t *testing.T) {
		so := lab.FindBinary(t, "/usr/lib/apache2/modules/libphp8.2.so", "/usr/lib/apache2/modules/libphp*.so")
		a := lab.NewApache(t)
		var b strings.Builder
		b.WriteString(a.BaseConf(t))
		for _, m := range []string{"mpm_prefork", "authz_core"} {
			fmt.Fprintf(&b, "LoadModule %s_module %s/mod_%s.so\n", m, lab.ModuleDir(), m)
		}
		fmt.Fprintf(&b, "LoadModule php_module %s\n%s", so, lab.PreforkLimits)
		fmt.Fprintf(&b, "DocumentRoot %s\n<Directory %s>\n    Require all granted\n</Directory>\n%s", a.DocRoot, a.DocRoot, ed)
		b.WriteString(files("SetHandler application/x-httpd-php\n"))
		a.WriteConf(t, b.String())
		a.Start(t)
		writeSite(t, a.DocRoot, fileCheckSite)
		if got := getAll(t, a.URL, fileCheckURLs); !equalRows(got, asModPHP) {
			t.Errorf("responses:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(asModPHP, "\n"))
		}
	})
}

// writeSite writes files (name → content) under dir.
func writeSite(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// getAll requests each path and returns `STATUS "BODY"` per path.
func getAll(t *testing.T, base string, paths []string) []string {
	t.Helper()
	var out []string
	for _, p := range paths {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d %q", resp.StatusCode, b))
	}
	return out
}

func equalRows(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

// applyFixes returns the configuration file with the lines of each
// diagnostic replaced by its fix.
func applyFixes(t *testing.T, conf string, diags []rules.Diagnostic) string {
	t.Helper()
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	for i := len(diags) - 1; i >= 0; i-- {
		d := diags[i]
		if d.Pos.File != conf || !d.FixReplaces {
			t.Fatalf("%s:%d: no fix in place: %s", d.Pos.File, d.Pos.Line, d.Message)
		}
		end := max(d.EndLine, d.Pos.Line)
		lines = append(lines[:d.Pos.Line-1], append([]string{d.Fix}, lines[end:]...)...)
	}
	return strings.Join(lines, "")
}

// lintFileCheck runs MPM2012 on the running configuration.
func lintFileCheck(t *testing.T, conf string) []rules.Diagnostic {
	t.Helper()
	res, err := parser.Load(conf, parser.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	diags, err := rules.Run(res, &rules.Options{Enable: []string{"MPM2012"}, NoPermissions: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diags {
		t.Logf("%s:%d: %s %s", d.Pos.File, d.Pos.Line, d.Code, d.Message)
	}
	return diags
}
