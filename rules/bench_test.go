package rules_test

import (
	"os"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules"
)

// BenchmarkLintTree runs every rule but the permission walk over the tree
// in $MODPHP_MIGRATE_BENCH_TREE (bench/gentree -vhosts 10000 -htaccess 500).
func BenchmarkLintTree(b *testing.B) {
	tree := os.Getenv("MODPHP_MIGRATE_BENCH_TREE")
	if tree == "" {
		b.Skip("set MODPHP_MIGRATE_BENCH_TREE to a tree written by bench/gentree")
	}
	res, err := parser.Load(tree, parser.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rules.Run(res, &rules.Options{NoPermissions: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPermissionWalk runs MPM1003 over the tree in
// $MODPHP_MIGRATE_BENCH_PERM (bench/gentree -vhosts 10 -docroot-files 200000).
func BenchmarkPermissionWalk(b *testing.B) {
	tree := os.Getenv("MODPHP_MIGRATE_BENCH_PERM")
	if tree == "" {
		b.Skip("set MODPHP_MIGRATE_BENCH_PERM to a tree written by bench/gentree")
	}
	res, err := parser.Load(tree, parser.LoadOptions{NoAccessFiles: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rules.Run(res, &rules.Options{Enable: []string{"MPM1003"}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadAndLint is what lint --no-permissions does: load both views
// and run the rules.
func BenchmarkLoadAndLint(b *testing.B) {
	tree := os.Getenv("MODPHP_MIGRATE_BENCH_TREE")
	if tree == "" {
		b.Skip("set MODPHP_MIGRATE_BENCH_TREE to a tree written by bench/gentree")
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := parser.Load(tree, parser.LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := rules.Run(res, &rules.Options{NoPermissions: true}); err != nil {
			b.Fatal(err)
		}
	}
}
