package aprmatch

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// oracleSource is a small C program that answers apr_fnmatch and
// apr_fnmatch_test questions with the system's libapr, loaded with
// dlopen so that no APR headers are needed. Each input line is
// "m FLAGS HEXPATTERN HEXNAME" or "t HEXPATTERN"; each output line is the
// function's result.
const oracleSource = `#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void unhex(const char *h, char *out) {
	size_t n = strlen(h) / 2, i;
	for (i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (char)v;
	}
	out[n] = 0;
}

int main(void) {
	void *lib = dlopen("libapr-1.so.0", RTLD_NOW);
	if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 2; }
	int (*match)(const char *, const char *, int) = (int (*)(const char *, const char *, int))dlsym(lib, "apr_fnmatch");
	int (*test)(const char *) = (int (*)(const char *))dlsym(lib, "apr_fnmatch_test");
	if (!match || !test) { fprintf(stderr, "apr_fnmatch missing\n"); return 2; }
	static char line[300000], a[100000], b[100000], pat[50000], name[50000];
	while (fgets(line, sizeof line, stdin)) {
		int flags = 0;
		if (line[0] == 'm' && sscanf(line, "m %d %99999s %99999s", &flags, a, b) >= 2) {
			if (strcmp(a, "-") == 0) a[0] = 0;
			if (strcmp(b, "-") == 0) b[0] = 0;
			unhex(a, pat);
			unhex(b, name);
			printf("%d\n", match(pat, name, flags));
		} else if (line[0] == 't' && sscanf(line, "t %99999s", a) == 1) {
			if (strcmp(a, "-") == 0) a[0] = 0;
			unhex(a, pat);
			printf("%d\n", test(pat) != 0);
		} else {
			printf("?\n");
		}
		fflush(stdout);
	}
	return 0;
}
`

// oracle is a running copy of the libapr helper.
type oracle struct {
	mu   sync.Mutex
	in   io.Writer
	out  *bufio.Reader
	dead bool
}

var (
	oracleOnce sync.Once
	theOracle  *oracle
	oracleErr  error
)

// errNoCompiler: the helper cannot be built here.
var errNoCompiler = errors.New("no gcc to build the libapr helper")

// aprOracle starts the helper once per test binary. Without gcc the
// calling test is skipped; without libapr too, unless
// MODPHP_MIGRATE_REAL=1, where the servers (and their libapr) are
// required.
func aprOracle(t testing.TB) *oracle {
	t.Helper()
	oracleOnce.Do(func() { theOracle, oracleErr = startOracle() })
	if oracleErr != nil {
		if lab.Real() && !errors.Is(oracleErr, errNoCompiler) {
			t.Fatalf("libapr oracle: %v", oracleErr)
		}
		t.Skipf("libapr oracle: %v", oracleErr)
	}
	return theOracle
}

func startOracle() (*oracle, error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return nil, errNoCompiler
	}
	dir, err := os.MkdirTemp("", "aprmatch-oracle")
	if err != nil {
		return nil, err
	}
	src, bin := filepath.Join(dir, "oracle.c"), filepath.Join(dir, "oracle")
	if err := os.WriteFile(src, []byte(oracleSource), 0o600); err != nil {
		return nil, err
	}
	if out, err := exec.Command(gcc, "-O1", "-o", bin, src, "-ldl").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("compiling: %w: %s", err, out)
	}
	cmd := exec.Command(bin)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	os.RemoveAll(dir) // the running helper keeps its binary
	o := &oracle{in: in, out: bufio.NewReader(out)}
	// The helper lives as long as the test binary; its stdin closes with it.
	if _, err := o.ask("t 2a\n"); err != nil {
		return nil, fmt.Errorf("libapr helper: %w", err)
	}
	return o, nil
}

func hexArg(s string) string {
	if s == "" {
		return "-"
	}
	return hex.EncodeToString([]byte(s))
}

// oracleTimeout bounds one answer of the helper: libapr answering
// nothing for this long means it loops on the input.
const oracleTimeout = 10 * time.Second

func (o *oracle) ask(q string) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dead {
		return "", errors.New("libapr helper stopped answering earlier")
	}
	type answer struct {
		line string
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		if _, err := io.WriteString(o.in, q); err != nil {
			done <- answer{err: err}
			return
		}
		line, err := o.out.ReadString('\n')
		done <- answer{line, err}
	}()
	select {
	case a := <-done:
		if a.err != nil {
			return "", a.err
		}
		return a.line[:len(a.line)-1], nil
	case <-time.After(oracleTimeout):
		o.dead = true
		return "", fmt.Errorf("no answer in %v to %q", oracleTimeout, q)
	}
}

// match is apr_fnmatch(pattern, name, flags) == APR_SUCCESS in libapr.
func (o *oracle) match(t testing.TB, pattern, name string, flags Flags) bool {
	t.Helper()
	r, err := o.ask(fmt.Sprintf("m %d %s %s\n", aprFlags(flags), hexArg(cString(pattern)), hexArg(cString(name))))
	if err != nil {
		t.Fatalf("libapr helper: %v", err)
	}
	return r == "0"
}

// isPattern is apr_fnmatch_test(pattern) != 0 in libapr.
func (o *oracle) isPattern(t testing.TB, pattern string) bool {
	t.Helper()
	r, err := o.ask(fmt.Sprintf("t %s\n", hexArg(cString(pattern))))
	if err != nil {
		t.Fatalf("libapr helper: %v", err)
	}
	return r == "1"
}

// aprFlags converts Flags to apr_fnmatch.h's values.
func aprFlags(f Flags) int {
	n := 0
	if f&PathName != 0 {
		n |= 0x02
	}
	if f&Period != 0 {
		n |= 0x04
	}
	if f&CaseBlind != 0 {
		n |= 0x08
	}
	return n
}
