package lab

import (
	"fmt"
	"runtime"
	"testing"
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

func findIn(env string, t *testing.T, candidates ...string) (*fakeTB, string) {
	t.Setenv(RealEnv, env)
	f := &fakeTB{TB: t}
	var got string
	done := make(chan struct{})
	go func() {
		defer close(done)
		got = FindBinary(f, candidates...)
	}()
	<-done
	return f, got
}

func TestFindBinaryPolicy(t *testing.T) {
	missing := []string{"no-such-server-binary", "/nonexistent/sbin/php-fpm*"}
	if f, _ := findIn("", t, missing...); f.skipped == "" || f.failed != "" {
		t.Errorf("missing binary without %s: skipped %q, failed %q; want a skip", RealEnv, f.skipped, f.failed)
	}
	if f, _ := findIn("1", t, missing...); f.failed == "" || f.skipped != "" {
		t.Errorf("missing binary with %s=1: skipped %q, failed %q; want a failure", RealEnv, f.skipped, f.failed)
	}
	if f, got := findIn("1", t, "no-such-server-binary", "sh"); got == "" || f.failed != "" || f.skipped != "" {
		t.Errorf("present binary: got %q, skipped %q, failed %q", got, f.skipped, f.failed)
	}
}
