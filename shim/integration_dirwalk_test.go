package shim

import (
	"path/filepath"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// TestIntegrationDirectoryMatchesFile shows a limit of the shim's model
// of httpd's directory walk (parser.DirSections walks directories only):
// when FollowSymLinks is in effect and the script exists, httpd's walk
// (request.c ap_directory_walk, its "first optimization") treats every
// remaining path segment as a directory without a stat, the script's own
// name included, so a <Directory> section matching the script's path,
// wildcard or not, applies to it; with FollowSymLinks off the walk stops
// at the file and the section does not apply.
func TestIntegrationDirectoryMatchesFile(t *testing.T) {
	docRoot := filepath.Join(lab.TempDir(t), "www")
	script := "<?php echo 'memory_limit=', var_export(ini_get('memory_limit'), true), \"\\n\";\n"
	for _, p := range []string{"base.php", "f/i.php", "f/x.php", "f/named.php", "g/i.php"} {
		writeTestFile(t, filepath.Join(docRoot, p), script)
	}
	ref := startModPHP(t, docRoot, `<Directory "{{DocRoot}}/f/[!x]*">
    php_value memory_limit 41M
</Directory>
<Directory "{{DocRoot}}/f/named.php">
    php_value memory_limit 42M
</Directory>
<Directory "{{DocRoot}}/g">
    Options None
</Directory>
<Directory "{{DocRoot}}/g/[!x]*">
    php_value memory_limit 43M
</Directory>`)
	base := modPHPINI(t, ref.url, "/base.php")["memory_limit"]
	for p, want := range map[string]string{
		"/f/i.php":     "'41M'",
		"/f/named.php": "'42M'",
		"/f/x.php":     base,
		"/g/i.php":     base,
	} {
		if got := modPHPINI(t, ref.url, p)["memory_limit"]; got != want {
			t.Errorf("%s: mod_php memory_limit = %s, want %s (base %s)", p, got, want, base)
		}
	}
}
