package migrate

import (
	"os"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// BenchmarkPlanTree plans the tree at $MODPHP_MIGRATE_BENCH_TREE (from
// bench/gentree), loaded once; it measures Build and the diff.
func BenchmarkPlanTree(b *testing.B) {
	tree := os.Getenv("MODPHP_MIGRATE_BENCH_TREE")
	if tree == "" {
		b.Skip("set MODPHP_MIGRATE_BENCH_TREE to a tree from bench/gentree")
	}
	main, err := parser.FindMain(tree)
	if err != nil {
		b.Fatal(err)
	}
	res, err := parser.Load(main, parser.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p, err := Build(Input{Today: res.Today, After: res.After})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(p.Diff())))
	}
}
