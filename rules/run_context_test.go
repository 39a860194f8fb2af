package rules_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules"
)

// TestRunContextCanceled: a run whose context is done reports the
// context's error and no (incomplete) findings.
func TestRunContextCanceled(t *testing.T) {
	p := filepath.Join(t.TempDir(), "vhost.conf")
	if err := os.WriteFile(p, []byte("php_value memory_limit 1G\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := parser.LoadSingle(p, false, parser.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds, err := rules.RunContext(context.Background(), res, nil); err != nil || len(ds) == 0 {
		t.Fatalf("uncanceled run: %v, %v; want findings", ds, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ds, err := rules.RunContext(ctx, res, nil)
	if !errors.Is(err, context.Canceled) || ds != nil {
		t.Errorf("canceled run = %v, %v; want nil, context.Canceled", ds, err)
	}
}
