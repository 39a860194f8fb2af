package shim

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkResolveDirSections is the uncached resolution of one request
// (what a first request, or one after an access file changed, costs)
// under a server configuration with 40 <Directory> sections holding
// php_value lines, a few of them wildcards: the directory walk asks
// parser.DirSections which apply.
func BenchmarkResolveDirSections(b *testing.B) {
	root := b.TempDir()
	script := chain(b, root)
	var conf strings.Builder
	fmt.Fprintf(&conf, "ServerRoot %s\nDocumentRoot %s\n<Directory %s>\n    AllowOverride All\n</Directory>\n", root, root, root)
	for i := range 40 {
		p := fmt.Sprintf("%s/site%d", root, i)
		switch i % 10 {
		case 0:
			p = fmt.Sprintf("%s/[!x]%d*", root, i)
		case 1:
			p = root + "/a"
		case 2:
			p = root + "/a/b/*"
		}
		fmt.Fprintf(&conf, "<Directory \"%s\">\n    php_value precision %d\n</Directory>\n", p, i)
	}
	cf := filepath.Join(root, "apache2.conf")
	if err := os.WriteFile(cf, []byte(conf.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	r, err := NewResolver(nil, cf)
	if err != nil {
		b.Fatal(err)
	}
	req := Request{DocRoot: root, Script: script}
	b.ReportAllocs()
	for b.Loop() {
		var deps []dep
		if _, err := r.resolve(req, &deps); err != nil {
			b.Fatal(err)
		}
	}
}
