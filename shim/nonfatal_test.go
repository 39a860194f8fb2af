package shim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNonfatalSkipped: the lines Nonfatal=Override skips are reported, one
// per line with its position, for the warning httpd logs (AH02295).
func TestNonfatalSkipped(t *testing.T) {
	dir := t.TempDir()
	www := filepath.Join(dir, "www")
	os.MkdirAll(filepath.Join(www, "nf"), 0o755)
	os.MkdirAll(filepath.Join(www, "adm"), 0o755)
	os.WriteFile(filepath.Join(www, "nf", ".htaccess"), []byte("php_value memory_limit 66M\n<Files x.php>\nphp_flag display_errors on\n</Files>\n"), 0o644)
	os.WriteFile(filepath.Join(www, "adm", ".htaccess"), []byte("php_value user_agent a\nphp_admin_flag display_errors on\n"), 0o644)
	conf := filepath.Join(dir, "apache2.conf")
	os.WriteFile(conf, []byte(strings.ReplaceAll(`ServerRoot ROOT
DocumentRoot ROOT/www
<Directory ROOT/www>
    AllowOverride All Nonfatal=Override
</Directory>
<Directory ROOT/www/nf>
    AllowOverride AuthConfig Nonfatal=All
</Directory>
`, "ROOT", dir)), 0o644)
	r, err := NewResolver(nil, conf)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ script, want string }{
		{"nf/x.php", "memory_limit@" + www + "/nf/.htaccess:1:1 display_errors@" + www + "/nf/.htaccess:3:1"},
		{"adm/x.php", "display_errors@" + www + "/adm/.htaccess:2:1"},
	} {
		res, err := r.Resolve(Request{DocRoot: www, Script: filepath.Join(www, tc.script)})
		if err != nil {
			t.Fatalf("%s: %v", tc.script, err)
		}
		var got []string
		for _, s := range res.Skipped {
			if s.Reason != skipReason {
				t.Errorf("%s: reason %q", tc.script, s.Reason)
			}
			got = append(got, s.Key+"@"+s.Pos.String())
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: skipped %q, want %q", tc.script, strings.Join(got, " "), tc.want)
		}
	}
}
