package shim

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
	"golang.org/x/tools/txtar"
)

// TestIntegrationResolverAgainstModPHP serves the trees of resolver
// scenarios with real Apache prefork + mod_php and checks that every
// script sees exactly the settings the scenario's want lines give
// (TestResolverScenarios checks the shim's resolver against the same
// lines): in modphp-semantics.txtar, php_admin_value of a key without
// PHP_INI_SYSTEM in its mask, and <Files> wildcards as apr_fnmatch reads
// them; in directory-wildcards.txtar, which <Directory> sections apply,
// wildcards included, and in which order.
func TestIntegrationResolverAgainstModPHP(t *testing.T) {
	for _, name := range []string{"modphp-semantics", "directory-wildcards", "directory-file", "vhost-merge-order"} {
		t.Run(name, func(t *testing.T) { checkScenarioAgainstModPHP(t, "testdata/resolver/"+name+".txtar") })
	}
}

// checkScenarioAgainstModPHP runs one scenario's tree under mod_php; the
// scenario's <Directory> sections from the first one under www/ on are
// Apache's configuration.
func checkScenarioAgainstModPHP(t *testing.T, file string) {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	docRoot := filepath.Join(lab.TempDir(t), "www")
	var want, extra string
	for _, f := range ar.Files {
		switch {
		case f.Name == "want":
			want = string(f.Data)
		case f.Name == "apache2.conf":
			conf := string(f.Data)
			extra = strings.ReplaceAll(conf[strings.Index(conf, "<Directory {{ROOT}}/www/"):], "{{ROOT}}/www", "{{DocRoot}}")
		default:
			writeTestFile(t, filepath.Join(docRoot, strings.TrimPrefix(f.Name, "www/")), string(f.Data))
		}
	}
	keys := []string{"memory_limit", "session.upload_progress.name"}
	script := "<?php foreach (['" + strings.Join(keys, "', '") + "'] as $k) echo $k, '=', var_export(ini_get($k), true), \"\\n\";\n"
	writeTestFile(t, filepath.Join(docRoot, "base.php"), script)
	lines := strings.Split(strings.TrimSpace(want), "\n")
	for _, line := range lines {
		p, _, _ := strings.Cut(line, " ")
		writeTestFile(t, filepath.Join(docRoot, p), script)
	}
	ref := startModPHP(t, docRoot, extra)
	base := modPHPINI(t, ref.url, "/base.php")
	for _, line := range lines {
		p, exp, _ := strings.Cut(line, " ")
		if strings.HasPrefix(exp, "error ") {
			modPHPINI(t, ref.url, p) // mod_php serves it (200)
			continue                 // the shim's own limit (PCRE)
		}
		wantINI := map[string]string{}
		for _, k := range keys {
			wantINI[k] = base[k]
		}
		if exp != "-" {
			for _, kv := range strings.Fields(exp) {
				k, v, _ := strings.Cut(kv, "=")
				uq, err := strconv.Unquote(v)
				if err != nil {
					t.Fatalf("want line %q: %v", line, err)
				}
				wantINI[k] = "'" + uq + "'"
			}
		}
		got := modPHPINI(t, ref.url, p)
		for _, k := range keys {
			if got[k] != wantINI[k] {
				t.Errorf("%s: mod_php ini_get(%s) = %s, the scenario (and the shim) says %s", p, k, got[k], wantINI[k])
			}
		}
	}
}

// modPHPINI requests p (a path of the tree, escaped here) and returns
// the key=value lines the script prints.
func modPHPINI(t *testing.T, base, p string) map[string]string {
	t.Helper()
	segs := strings.Split(p, "/")
	for i := range segs {
		segs[i] = url.PathEscape(segs[i])
	}
	code, body, _ := getResp(t, base+strings.Join(segs, "/"))
	if code != http.StatusOK {
		t.Fatalf("%s: status %d: %s", p, code, body)
	}
	out := map[string]string{}
	for l := range strings.Lines(body) {
		k, v, _ := strings.Cut(strings.TrimSuffix(l, "\n"), "=")
		out[k] = v
	}
	return out
}

func writeTestFile(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
