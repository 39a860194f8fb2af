package parser

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Differential tests: the loader against the real apache2 binary. They
// skip when apache2 is missing unless MODPHP_MIGRATE_REAL=1 (CI), where a
// missing server is a failure.

const apacheBin = "/usr/sbin/apache2"

func needApache(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(apacheBin); err != nil {
		if os.Getenv("MODPHP_MIGRATE_REAL") == "1" {
			t.Fatalf("apache2 is required (MODPHP_MIGRATE_REAL=1): %v", err)
		}
		t.Skip("apache2 not installed")
	}
}

// apache runs apache2 on a tree with Debian's envvars (if present beside
// the main file) sourced, and returns its combined output.
func apache(t *testing.T, serverRoot, main string, args ...string) string {
	t.Helper()
	script := `set -a; [ -f "$1/envvars" ] && . "$1/envvars"; set +a; shift; exec "$@"`
	cmdArgs := append([]string{"-c", script, "sh", filepath.Dir(main), apacheBin, "-d", serverRoot, "-f", main}, args...)
	out, err := exec.Command("bash", cmdArgs...).CombinedOutput()
	if err != nil {
		t.Fatalf("apache2 %v: %v\n%s", args, err, out)
	}
	return string(out)
}

type vhostKey struct {
	name, file string
	line       int
}

var (
	reNameVhost   = regexp.MustCompile(`namevhost (\S+) \((.+):(\d+)\)$`)
	reSingleVhost = regexp.MustCompile(`^\S+\s+(\S+) \((.+):(\d+)\)$`)
	reAlias       = regexp.MustCompile(`^\s+alias (\S+)$`)
	reModule      = regexp.MustCompile(`^ (\S+) \(shared\)$`)
	reInclude     = regexp.MustCompile(`^\s+\((\*|\d+)\) (.+)$`)
)

// apacheVHosts parses apache2 -S: vhosts and their aliases.
func apacheVHosts(out string) (map[vhostKey]bool, map[string][]string) {
	vhosts := map[vhostKey]bool{}
	aliases := map[string][]string{}
	last := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "default server") {
			last = ""
			continue
		}
		m := reNameVhost.FindStringSubmatch(line)
		if m == nil && !strings.HasPrefix(line, " ") {
			m = reSingleVhost.FindStringSubmatch(line)
		}
		if m != nil {
			n, _ := strconv.Atoi(m[3])
			k := vhostKey{m[1], m[2], n}
			vhosts[k] = true
			last = fmt.Sprintf("%s:%d", m[2], n)
			continue
		}
		if a := reAlias.FindStringSubmatch(line); a != nil && last != "" {
			aliases[last] = append(aliases[last], a[1])
		}
	}
	return vhosts, aliases
}

func compareWithApache(t *testing.T, serverRoot, main string, opt LoadOptions) {
	t.Helper()
	cfg, err := LoadView(main, Today, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range cfg.Diagnostics {
		if d.Severity == SevError {
			t.Errorf("unexpected error diagnostic: %s: %s", d.Pos, d.Message)
		}
	}
	// Virtual hosts: names and file:line of the <VirtualHost> opener.
	wantV, wantA := apacheVHosts(apache(t, serverRoot, main, "-S"))
	if len(wantV) == 0 || len(wantV) != len(cfg.VHosts) {
		t.Errorf("apache2 -S lists %d vhosts, the loader %d", len(wantV), len(cfg.VHosts))
	}
	gotV := map[vhostKey]bool{}
	gotA := map[string][]string{}
	fallback := map[string]bool{} // file:line of vhosts without ServerName
	for _, v := range cfg.VHosts {
		key := fmt.Sprintf("%s:%d", v.Pos.File, v.Pos.Line)
		if v.ServerName == "" {
			fallback[key] = true
			continue
		}
		gotV[vhostKey{v.ServerName, v.Pos.File, v.Pos.Line}] = true
		if len(v.ServerAliases) > 0 {
			gotA[key] = v.ServerAliases
		}
	}
	for k := range wantV {
		if !gotV[k] && !fallback[fmt.Sprintf("%s:%d", k.file, k.line)] {
			t.Errorf("apache2 -S has vhost %s at %s:%d, the loader does not", k.name, k.file, k.line)
		}
	}
	for k := range gotV {
		if !wantV[k] {
			t.Errorf("the loader has vhost %s at %s:%d, apache2 -S does not", k.name, k.file, k.line)
		}
	}
	if fmt.Sprint(sortedAliases(gotA)) != fmt.Sprint(sortedAliases(wantA)) {
		t.Errorf("aliases differ:\n loader %v\napache2 %v", sortedAliases(gotA), sortedAliases(wantA))
	}
	// Shared modules, in load order.
	var wantM, gotM []string
	for _, line := range strings.Split(apache(t, serverRoot, main, "-M"), "\n") {
		if m := reModule.FindStringSubmatch(line); m != nil {
			wantM = append(wantM, m[1])
		}
	}
	for _, m := range cfg.Modules {
		if m.Path != "" {
			gotM = append(gotM, m.ID)
		}
	}
	sort.Strings(wantM) // apache2 -M lists in its own (hash) order
	sort.Strings(gotM)
	if strings.Join(gotM, " ") != strings.Join(wantM, " ") {
		t.Errorf("modules differ:\n loader %v\napache2 %v", gotM, wantM)
	}
	// Included files, in order, with the line of the Include.
	var wantI, gotI []string
	for _, line := range strings.Split(apache(t, serverRoot, main, "-t", "-D", "DUMP_INCLUDES"), "\n") {
		if m := reInclude.FindStringSubmatch(line); m != nil {
			wantI = append(wantI, m[1]+" "+m[2])
		}
	}
	for _, f := range cfg.Files {
		l := "*"
		if f.IncludedBy != nil {
			l = strconv.Itoa(f.IncludedBy.Pos.Line)
		}
		gotI = append(gotI, l+" "+f.Path)
	}
	if strings.Join(gotI, "\n") != strings.Join(wantI, "\n") {
		t.Errorf("includes differ:\n--- loader\n%s\n--- apache2 -D DUMP_INCLUDES\n%s", strings.Join(gotI, "\n"), strings.Join(wantI, "\n"))
	}
}

func sortedAliases(m map[string][]string) []string {
	var out []string
	for k, v := range m {
		s := append([]string(nil), v...)
		sort.Strings(s)
		out = append(out, k+"="+strings.Join(s, ","))
	}
	sort.Strings(out)
	return out
}

func TestApacheStockDebian(t *testing.T) {
	needApache(t)
	if _, err := os.Stat("/etc/apache2/apache2.conf"); err != nil {
		t.Skip("no /etc/apache2")
	}
	compareWithApache(t, "/etc/apache2", "/etc/apache2/apache2.conf", LoadOptions{NoAccessFiles: true})
}

func TestApacheGeneratedTrees(t *testing.T) {
	needApache(t)
	for seed := int64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			dir := t.TempDir()
			genTree(t, dir, rand.New(rand.NewSource(seed)))
			compareWithApache(t, dir, filepath.Join(dir, "httpd.conf"), LoadOptions{NoAccessFiles: true})
		})
	}
}

// genTree writes a random tree Apache accepts: include globs in file and
// directory parts, a directory include, IncludeOptional of nothing, Define
// and ${VAR}, <IfModule>/<IfDefine>/<IfVersion> both ways, continuation
// lines, quoted arguments, vhosts in several files.
func genTree(t *testing.T, dir string, r *rand.Rand) {
	t.Helper()
	w := func(rel, body string) { writeFile(t, filepath.Join(dir, rel), body) }
	mods := "/usr/lib/apache2/modules"
	if err := os.MkdirAll(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	var main strings.Builder
	fmt.Fprintf(&main, "ServerRoot %q\nDefaultRuntimeDir %s/run\nPidFile %s/run/httpd.pid\nErrorLog %s/error.log\n", dir, dir, dir, dir)
	fmt.Fprintf(&main, "ServerName main.test\nListen 127.0.0.1:18080\n")
	fmt.Fprintf(&main, "Define SITE_SUFFIX example.test\nDefine VH_ADDR *:18080\n")
	main.WriteString("Include mods/*.load\n")
	all := []string{"authz_core", "alias", "dir", "mime", "rewrite", "setenvif", "headers", "env"}
	w("mods/00-mpm.load", fmt.Sprintf("LoadModule mpm_event_module %s/mod_mpm_event.so\n", mods))
	for _, m := range all {
		if r.Intn(3) > 0 {
			w("mods/"+m+".load", fmt.Sprintf("# %s\nLoadModule %s_module %s/mod_%s.so\n", m, m, mods, m))
		}
	}
	w("mods/.hidden.load", "this line would be an error if it were read\n")
	main.WriteString("<IfModule mod_rewrite.c>\n  Include conf.d/rewrite/\n</IfModule>\n")
	w("conf.d/rewrite/a.conf", "RewriteEngine On\n")
	w("conf.d/rewrite/sub/b.conf", "# nested directory include\nRewriteOptions Inherit\n")
	main.WriteString("IncludeOptional optional/*.conf\nIncludeOptional nothing-here.conf\n")
	main.WriteString("<IfDefine !NEVER>\n  Include sites/*/*.conf\n</IfDefine>\n")
	main.WriteString("<IfVersion >= 2.4>\n  <IfModule !mod_nonexistent.c>\n    Include extra/*.conf\n  </IfModule>\n</IfVersion>\n")
	main.WriteString("<IfVersion < 2.0>\n  Include does-not-exist/*.conf\n</IfVersion>\n")
	w("extra/x.conf", "# extra\n")
	n := 2 + r.Intn(6)
	line := 1
	for i := 0; i < n; i++ {
		group := fmt.Sprintf("g%d", r.Intn(3))
		var b strings.Builder
		for k := 0; k < r.Intn(4); k++ {
			b.WriteString("# comment line \\\n  continued comment\n")
		}
		name := fmt.Sprintf("site%d.${SITE_SUFFIX}", i)
		if r.Intn(2) == 0 {
			name = fmt.Sprintf("\"site%d.${SITE_SUFFIX}\"", i)
		}
		fmt.Fprintf(&b, "<VirtualHost ${VH_ADDR}>\n    ServerName %s\n", name)
		if r.Intn(2) == 0 {
			fmt.Fprintf(&b, "    ServerAlias www.site%d.example.test \\\n        alt%d.example.test\n", i, i)
		}
		fmt.Fprintf(&b, "    DocumentRoot %s/www/site%d\n    <Directory %s/www/site%d>\n        AllowOverride None\n    </Directory>\n</VirtualHost>\n", dir, i, dir, i)
		w(fmt.Sprintf("sites/%s/%02d-site%d.conf", group, i, i), b.String())
		line++
	}
	w("httpd.conf", main.String())
	_ = line
}
