package rules_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules"
)

// TestApacheOwnedFiles covers MPM2009's document-root walk, which a txtar
// scenario cannot: the extracted files belong to whoever runs the test, so
// the tree's /etc/passwd names that uid www-data here.
func TestApacheOwnedFiles(t *testing.T) {
	root := t.TempDir()
	uid := strconv.Itoa(os.Getuid())
	files := map[string]string{
		"etc/apache2/apache2.conf":     "ServerRoot /etc/apache2\nUser www-data\nGroup www-data\n<VirtualHost *:80>\n    DocumentRoot /var/www/c\n    <FilesMatch \"\\.php$\">\n        SetHandler \"proxy:unix:/run/php/c.sock|fcgi://localhost\"\n    </FilesMatch>\n</VirtualHost>\n",
		"var/www/c/index.php":          "<?php echo 1;\n",
		"var/www/c/cache/x.php":        "<?php echo 2;\n",
		"etc/passwd":                   "www-data:x:" + uid + ":" + uid + "::/var/www:/usr/sbin/nologin\nsite:x:999999:999999::/home/site:/bin/sh\n",
		"etc/group":                    "www-data:x:" + uid + ":\nsite:x:999999:\n",
		"etc/php/8.2/fpm/php-fpm.conf": "[c]\nuser = site\nlisten = /run/php/c.sock\nlisten.owner = www-data\nlisten.group = www-data\npm = static\npm.max_children = 2\n",
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := parser.Load(filepath.Join(root, "etc/apache2"), parser.LoadOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	fpm, err := rules.LoadFPM(root, rules.FindFPMConfig(root))
	if err != nil {
		t.Fatal(err)
	}
	diags, err := rules.Run(res, &rules.Options{Enable: []string{"MPM2009"}, FPM: fpm})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diags {
		got = append(got, d.Pos.String()+": "+d.Message)
	}
	want := "4 files and directories under /var/www/c belong to www-data (written by PHP under mod_php), but pool c runs as site and will not be able to change them"
	if len(got) != 1 || !strings.Contains(got[0], want) || !strings.Contains(got[0], "apache2.conf:5:5") {
		t.Errorf("got %q, want one finding at apache2.conf:5:5 containing %q", got, want)
	}
}
