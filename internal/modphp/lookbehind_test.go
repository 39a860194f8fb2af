package modphp_test

import (
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
)

// TestLookbehindAgainstPCRE compares the literal look-behinds CompileFiles
// evaluates with PCRE itself: PHP's preg_match with the D modifier, which
// is httpd's DOLLAR_ENDONLY (RegexDefaultOptions' default), on every
// pattern and name below. TestIntegrationModPHP checks a few of them
// through a real <FilesMatch>.
func TestLookbehindAgainstPCRE(t *testing.T) {
	php := lab.FindBinary(t, "php", "/usr/bin/php*")
	patterns := []string{`(?<!\.min)\.js$`, `(?<=x)y\.php$`, `(?<!\.)$`, `(?<=a\.b)$`, `(?<!robots)\.txt$`,
		`(?<=\(x\))\.php$`, `(?<!x)x$`, `(?<= )-\.php$`}
	names := []string{"", "a.js", "a.min.js", ".min.js", "min.js", "xy.php", "y.php", "xxy.php", "a.", "a.b", "a.b.",
		"robots.txt", "x.txt", "robots.txt\n", "a.js\n", "(x).php", "x", "xx", "a x", "a -.php", "-.php", "x$"}
	script := `$r = []; foreach (json_decode($argv[1]) as $p) { $row = []; foreach (json_decode($argv[2]) as $n) { $row[] = preg_match('/' . str_replace('/', '\/', $p) . '/D', $n); } $r[] = $row; } echo json_encode($r);`
	pj, _ := json.Marshal(patterns)
	nj, _ := json.Marshal(names)
	out, err := exec.Command(php, "-n", "-r", script, string(pj), string(nj)).Output()
	if err != nil {
		t.Fatalf("php: %v", err)
	}
	var pcre [][]int
	if err := json.Unmarshal(out, &pcre); err != nil || len(pcre) != len(patterns) {
		t.Fatalf("php answered %q: %v", out, err)
	}
	for i, p := range patterns {
		m, err := modphp.CompileFiles("FilesMatch", []string{p})
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		for j, n := range names {
			if got, want := m.Match(n), pcre[i][j] == 1; got != want {
				t.Errorf("%s against %q: %v, PCRE says %v", p, n, got, want)
			}
		}
	}
}
