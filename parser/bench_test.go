package parser

import (
	"os"
	"testing"
)

// BenchmarkLoadTree loads the tree named by MODPHP_BENCH_TREE (write one
// with `go run ./bench/gentree -vhosts 10000 -htaccess 500 -out DIR`) in
// the today view, as dump does.
func BenchmarkLoadTree(b *testing.B) {
	tree := os.Getenv("MODPHP_BENCH_TREE")
	if tree == "" {
		b.Skip("set MODPHP_BENCH_TREE to a tree written by bench/gentree")
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := LoadView(tree, Today, LoadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse measures the line lexer, grammar and word splitting on a
// synthetic vhost file.
func BenchmarkParse(b *testing.B) {
	var data []byte
	for i := 0; i < 200; i++ {
		data = append(data, "<VirtualHost *:80>\n  ServerName site.example.test\n  DocumentRoot \"/var/www/site\"\n  # comment\n  <Directory /var/www/site>\n    AllowOverride All \\\n      Options\n  </Directory>\n</VirtualHost>\n"...)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Parse("bench.conf", data, false)
	}
}
