package realapps

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// fakeTB records Skipf and Fatalf instead of ending the real test.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func require(t *testing.T, real string, apps ...App) *fakeTB {
	t.Setenv(lab.RealEnv, real)
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Require(f, apps...)
	}()
	<-done
	return f
}

func TestRequirePolicy(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("Require stops at its root check first")
	}
	missing := App{Package: "no-such-app", Confs: []string{"/nonexistent/no-such-app.conf"}}
	if f := require(t, "", missing); f.skipped == "" || f.failed != "" {
		t.Errorf("app missing without %s: skipped %q, failed %q; want a skip", lab.RealEnv, f.skipped, f.failed)
	}
	if f := require(t, "1", missing); f.failed == "" || f.skipped != "" {
		t.Errorf("app missing with %s=1: skipped %q, failed %q; want a failure", lab.RealEnv, f.skipped, f.failed)
	}
	dir := t.TempDir()
	present := App{Package: "some-app", Confs: []string{dir}, SymlinkedAccessFile: dir}
	if f := require(t, "", present); f.failed == "" {
		t.Errorf("access file that is no symbolic link: skipped %q, failed %q; want a failure", f.skipped, f.failed)
	}
	present.SymlinkedAccessFile = ""
	if f := require(t, "1", present); f.failed != "" || f.skipped != "" {
		t.Errorf("app present: skipped %q, failed %q", f.skipped, f.failed)
	}
}
