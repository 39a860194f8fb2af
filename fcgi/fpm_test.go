package fcgi

// Conformance against a real php-fpm started by internal/lab with its own
// configuration on a Unix socket (or 127.0.0.1) in a temporary directory.
// Without php-fpm these tests skip, unless MODPHP_MIGRATE_REAL=1.

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// fpmScripts are the PHP fixtures of the conformance tests.
var fpmScripts = map[string]string{
	// once.php counts its runs in a file next to it, then works silently
	// for two seconds, in short sleeps that a signal interrupting one
	// (php-fpm's SIGQUIT on reload) does not end
	// (TestFPMNoRerunAfterKill).
	"once.php": `<?php
file_put_contents($_SERVER['COUNT_FILE'], "run\n", FILE_APPEND);
$end = microtime(true) + 2; while (microtime(true) < $end) { usleep(10000); }
echo "done";
`,
	// echo.php hashes php://input as it streams in (the pool disables
	// post data reading, so PHP never buffers the body).
	"echo.php": `<?php
$h = hash_init('sha256'); $n = 0;
$in = fopen('php://input', 'rb');
while (!feof($in)) { $b = fread($in, 1 << 20); if ($b === false) break; $n += strlen($b); hash_update($h, $b); }
header('Content-Type: text/plain');
echo "len=$n sha=", hash_final($h), " cl=", $_SERVER['CONTENT_LENGTH'] ?? '-', "\n";`,
	"hello.php":    `<?php echo "hello\n";`,
	"status.php":   `<?php http_response_code(404); header('X-Lab: a'); header('X-Lab: b', false); echo "missing";`,
	"redirect.php": `<?php header('Location: /elsewhere'); echo "moved";`,
	"stderr.php":   `<?php error_log("to stderr"); trigger_error("warned", E_USER_WARNING); echo "done";`,
	"fatal.php":    `<?php echo "before"; undefined_function();`,
	"exit.php":     `<?php echo "a"; exit(3); echo "b";`,
	"die.php":      `<?php header('X-Before: 1'); die("bye");`,
	"finish.php":   `<?php echo "sent"; fastcgi_finish_request(); echo "never"; usleep(200000);`,
	// big.php writes SIZE bytes of a repeating pattern in 64 KiB chunks.
	"big.php": `<?php
header('Content-Type: application/octet-stream');
$n = (int)$_SERVER['SIZE']; $chunk = str_repeat("0123456789abcdef", 4096);
while ($n > 0) { $k = min($n, strlen($chunk)); echo substr($chunk, 0, $k); $n -= $k; }`,
	"params.php": `<?php header('Content-Type: text/plain'); echo strlen($_SERVER['BIG'] ?? ''), " ", md5($_SERVER['BIG'] ?? ''), " ", $_SERVER['ODD'] ?? '-';`,
	// conn.php names the worker and the sockets it holds: the accepted
	// connection's inode changes with every new connection (the pool
	// sets process.dumpable so that www-data may read /proc/self/fd).
	"conn.php": `<?php
$s = [];
foreach (scandir('/proc/self/fd') as $fd) { $l = @readlink("/proc/self/fd/$fd"); if ($l && str_starts_with($l, 'socket:')) $s[] = $l; }
sort($s); header('Content-Type: text/plain'); echo "pid=", getmypid(), " ", implode(",", $s);`,
	"slow.php": `<?php echo "slow"; sleep(3); echo "done";`,
	// stream.php sends its pid, then output until the connection breaks.
	"stream.php": `<?php
while (ob_get_level()) ob_end_flush();
header('Content-Type: text/plain');
echo "pid=", getmypid(), "\n", str_repeat("x", 100000), "\n"; flush();
for ($i = 0; $i < 300; $i++) { echo str_repeat("y", 1000), "\n"; flush(); usleep(10000); }`,
}

// fpmPool disables PHP's own body handling so that php://input streams
// (no post_max_size limit, no temporary copy).
const fpmPool = `
php_admin_value[post_max_size] = 0
php_admin_value[enable_post_data_reading] = 0
php_admin_value[max_execution_time] = 120
process.dumpable = yes
`

func startFPM(t testing.TB, cfg lab.FPMConfig) *lab.FPM {
	t.Helper()
	cfg.Scripts = fpmScripts
	cfg.Pool = fpmPool + cfg.Pool
	return lab.StartFPM(t, cfg)
}

// fpmRequest builds the params Apache would send for script.
func fpmRequest(f *lab.FPM, script, method string, extra ...Param) Params {
	ps := Params{
		{"GATEWAY_INTERFACE", "CGI/1.1"},
		{"SERVER_PROTOCOL", "HTTP/1.1"},
		{"REQUEST_METHOD", method},
		{"SCRIPT_FILENAME", f.Script(script)},
		{"SCRIPT_NAME", "/" + script},
		{"REQUEST_URI", "/" + script},
		{"DOCUMENT_ROOT", f.DocRoot},
	}
	if method == "POST" {
		ps = append(ps, Param{"CONTENT_TYPE", "application/octet-stream"})
	}
	return append(ps, extra...)
}

func TestFPMResponses(t *testing.T) {
	f := startFPM(t, lab.FPMConfig{})
	c := &Client{Network: f.Network, Addr: f.Addr, KeepAlive: true, MaxConns: 1}
	defer c.Close()
	script := func(s string) string { return f.Script(s) }
	for _, tc := range []struct {
		script, stdout, stderr string
	}{
		{"status.php", "Status: 404 Not Found\r\nX-Lab: a\r\nX-Lab: b\r\nContent-type: text/html; charset=UTF-8\r\n\r\nmissing", ""},
		{"redirect.php", "Status: 302 Found\r\nLocation: /elsewhere\r\nContent-type: text/html; charset=UTF-8\r\n\r\nmoved", ""},
		{"stderr.php", "Content-type: text/html; charset=UTF-8\r\n\r\ndone",
			"PHP message: to stderr; PHP message: PHP Warning:  warned in " + script("stderr.php") + " on line 1"},
		// Exit paths: a fatal error turns into a 500 after output
		// already produced; exit(3) and die() end the script where they
		// stand; fastcgi_finish_request ends the response early.
		{"fatal.php", "Status: 500 Internal Server Error\r\nContent-type: text/html; charset=UTF-8\r\n\r\nbefore",
			"PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function undefined_function() in " + script("fatal.php") +
				":1\nStack trace:\n#0 {main}\n  thrown in " + script("fatal.php") + " on line 1"},
		{"exit.php", "Content-type: text/html; charset=UTF-8\r\n\r\na", ""},
		{"die.php", "X-Before: 1\r\nContent-type: text/html; charset=UTF-8\r\n\r\nbye", ""},
		{"finish.php", "Content-type: text/html; charset=UTF-8\r\n\r\nsent", ""},
		// php-fpm's own answer for a missing script (docs/behaviour.md#b-path-info).
		{"missing.php", "Status: 404 Not Found\r\nContent-type: text/html; charset=UTF-8\r\n\r\nFile not found.\n", "Primary script unknown"},
	} {
		var out bytes.Buffer
		res, err := c.Do(context.Background(), &Request{Params: fpmRequest(f, tc.script, "GET")}, &out)
		if err != nil {
			t.Errorf("%s: %v", tc.script, err)
			continue
		}
		if out.String() != tc.stdout || string(res.Stderr) != tc.stderr {
			t.Errorf("%s:\nstdout %q\n  want %q\nstderr %q\n  want %q", tc.script, out.String(), tc.stdout, res.Stderr, tc.stderr)
		}
		// php-fpm always reports application status 0, even for
		// exit(3) (observed on 8.2): the exit code never reaches the web
		// server.
		if res.AppStatus != 0 || res.ProtocolStatus != StatusRequestComplete {
			t.Errorf("%s: END_REQUEST app %d, %s", tc.script, res.AppStatus, res.ProtocolStatus)
		}
	}
	if s := c.Stats(); s.Dials != 1 {
		t.Errorf("every exit path should leave the kept connection reusable: %+v", s)
	}
}

// patternReader yields n bytes of a repeating pattern without holding
// them; the bytes do not depend on how the reads are sized.
type patternReader struct{ n, off int64 }

var pattern = bytes.Repeat([]byte("The quick brown fox jumps over the lazy dog. 0123456789\n"), 1200)

func (r *patternReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n)]
	k := 0
	for k < len(p) {
		k += copy(p[k:], pattern[(r.off+int64(k))%int64(len(pattern)):])
	}
	r.n -= int64(k)
	r.off += int64(k)
	return k, nil
}

func patternSHA(n int64) string {
	h := sha256.New()
	io.Copy(h, &patternReader{n: n})
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestFPMPostBodies(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			f := startFPM(t, lab.FPMConfig{TCP: network == "tcp"})
			c := &Client{Network: f.Network, Addr: f.Addr, KeepAlive: true, MaxConns: 1}
			defer c.Close()
			sizes := []int64{0, 1, 65535, 65536, 10 << 20}
			if network == "tcp" {
				sizes = []int64{0, 65536}
			}
			for _, n := range sizes {
				var out bytes.Buffer
				_, err := c.Do(context.Background(), &Request{
					Params: fpmRequest(f, "echo.php", "POST"), Body: &patternReader{n: n}, ContentLength: n,
				}, &out)
				if err != nil {
					t.Fatalf("%d bytes: %v", n, err)
				}
				cl := fmt.Sprint(n)
				if n == 0 {
					cl = "-" // an empty body is sent without CONTENT_LENGTH
				}
				want := fmt.Sprintf("Content-type: text/plain;charset=UTF-8\r\n\r\nlen=%d sha=%s cl=%s\n", n, patternSHA(n), cl)
				if out.String() != want {
					t.Errorf("%d bytes:\n got %q\nwant %q", n, out.String(), want)
				}
			}
			// Unknown length: spooled, and CONTENT_LENGTH is exact.
			n := int64(3<<20 + 1)
			var out bytes.Buffer
			if _, err := c.Do(context.Background(), &Request{
				Params: fpmRequest(f, "echo.php", "POST"), Body: io.MultiReader(&patternReader{n: n}), ContentLength: -1,
			}, &out); err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("len=%d sha=%s cl=%d\n", n, patternSHA(n), n); !strings.HasSuffix(out.String(), want) {
				t.Errorf("unknown length: %q, want suffix %q", out.String(), want)
			}
			if s := c.Stats(); s.Dials != 1 || s.Reuses != s.Requests-1 {
				t.Errorf("bodies should not cost the kept connection: %+v", s)
			}
		})
	}
}

// heapSampler records the peak HeapInuse while a transfer runs.
type heapSampler struct {
	stop chan struct{}
	done chan struct{}
	peak atomic.Uint64
}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > h.peak.Load() {
				h.peak.Store(ms.HeapInuse)
			}
			select {
			case <-h.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return h
}

func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	<-h.done
	return h.peak.Load()
}

// heapBound is the peak heap allowed while 1 GB streams through: buffers
// are per connection (two 64 KiB record buffers), so anything near the
// body size means something buffered it.
const heapBound = 32 << 20

func TestFPMUpload1GB(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GB upload skipped in -short mode")
	}
	f := startFPM(t, lab.FPMConfig{})
	c := &Client{Network: f.Network, Addr: f.Addr}
	const n = 1 << 30
	// The expected hash is computed while the body streams (TeeReader),
	// so the test itself holds no copy either.
	sum := sha256.New()
	body := io.TeeReader(&patternReader{n: n}, sum)
	runtime.GC()
	hs := sampleHeap()
	var out bytes.Buffer
	_, err := c.Do(context.Background(), &Request{Params: fpmRequest(f, "echo.php", "POST"), Body: body, ContentLength: n}, &out)
	peak := hs.Stop()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("Content-type: text/plain;charset=UTF-8\r\n\r\nlen=%d sha=%x cl=%d\n", n, sum.Sum(nil), n)
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out.String(), want)
	}
	if peak > heapBound {
		t.Errorf("peak HeapInuse %d MiB during a 1 GB upload, want under %d MiB", peak>>20, heapBound>>20)
	}
	t.Logf("1 GB upload: peak HeapInuse %.1f MiB", float64(peak)/(1<<20))
}

// hashWriter hashes what is written to it.
type hashWriter struct {
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
	n int64
}

func (w *hashWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return w.h.Write(p) }

func TestFPMDownload(t *testing.T) {
	f := startFPM(t, lab.FPMConfig{})
	c := &Client{Network: f.Network, Addr: f.Addr}
	const n = 10<<20 + 3
	hw := &hashWriter{h: sha256.New()}
	runtime.GC()
	hs := sampleHeap()
	res, err := c.Do(context.Background(), &Request{Params: fpmRequest(f, "big.php", "GET", Param{"SIZE", fmt.Sprint(n)})}, hw)
	peak := hs.Stop()
	if err != nil {
		t.Fatal(err)
	}
	head := "Content-Type: application/octet-stream\r\n\r\n"
	want := sha256.New()
	io.WriteString(want, head)
	chunk := strings.Repeat("0123456789abcdef", 4096)
	for left := n; left > 0; left -= len(chunk) {
		io.WriteString(want, chunk[:min(left, len(chunk))])
	}
	if hw.n != int64(len(head)+n) || fmt.Sprintf("%x", hw.h.Sum(nil)) != fmt.Sprintf("%x", want.Sum(nil)) || res.Stdout != hw.n {
		t.Errorf("download: %d bytes, sha %x", hw.n, hw.h.Sum(nil))
	}
	if peak > heapBound {
		t.Errorf("peak HeapInuse %d MiB during a 10 MB download", peak>>20)
	}
}

// TestFPMParams sends params near the one-record limit: they arrive whole.
func TestFPMParams(t *testing.T) {
	f := startFPM(t, lab.FPMConfig{})
	c := &Client{Network: f.Network, Addr: f.Addr}
	big := strings.Repeat("v", 65535-1-4-len("BIG")) // exactly one full record
	var out bytes.Buffer
	if _, err := c.Do(context.Background(), &Request{Params: fpmRequest(f, "params.php", "GET", Param{"BIG", big}, Param{"ODD", "a\x01b"})}, &out); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d %x a\x01b", len(big), md5sum(big)); !strings.HasSuffix(out.String(), "\r\n\r\n"+want) {
		t.Errorf("got %q, want body %q", out.String(), want)
	}
	// One byte more cannot be sent in one record: refused before
	// anything reaches php-fpm, which would reset the connection.
	_, err := c.Do(context.Background(), &Request{Params: fpmRequest(f, "params.php", "GET", Param{"BIG", big + "v"})}, io.Discard)
	if !errors.Is(err, ErrParamTooLarge) {
		t.Errorf("oversized param: %v", err)
	}
	if lines := f.AccessLines(t, 1); len(lines) != 1 {
		t.Errorf("php-fpm saw %d requests, want 1: %q", len(lines), lines)
	}
}

var connLine = regexp.MustCompile(`^Content-type: text/plain;charset=UTF-8\r\n\r\npid=(\d+) (socket:\[\d+\](,socket:\[\d+\])*)$`)

// connID runs conn.php and returns the worker pid and its socket set.
func connID(t *testing.T, c *Client, f *lab.FPM) (pid, sockets string) {
	t.Helper()
	var out bytes.Buffer
	if _, err := c.Do(context.Background(), &Request{Params: fpmRequest(f, "conn.php", "GET")}, &out); err != nil {
		t.Fatal(err)
	}
	m := connLine.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("conn.php: %q", out.String())
	}
	return m[1], m[2]
}

// TestFPMKeepAlive counts connection reuse on both sides: the client's
// dial count, the worker pid in php-fpm's access log, and the socket the
// worker reads (a new connection is a new socket inode).
func TestFPMKeepAlive(t *testing.T) {
	const requests = 10
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprintf("keepalive=%v", keep), func(t *testing.T) {
			f := startFPM(t, lab.FPMConfig{Children: 3})
			c := &Client{Network: f.Network, Addr: f.Addr, KeepAlive: keep, MaxConns: 1}
			defer c.Close()
			pids, socks := map[string]int{}, map[string]int{}
			for range requests {
				pid, s := connID(t, c, f)
				pids[pid]++
				socks[s]++
			}
			lines := f.AccessLines(t, requests)
			logPids := map[string]int{}
			for _, l := range lines {
				logPids[strings.Fields(l)[0]]++
			}
			s := c.Stats()
			if keep {
				// One connection, one worker, one socket for all.
				if s.Dials != 1 || s.Reuses != requests-1 || len(pids) != 1 || len(socks) != 1 || len(logPids) != 1 {
					t.Errorf("kept: stats %+v, pids %v, sockets %v, access-log pids %v", s, pids, socks, logPids)
				}
			} else if s.Dials != requests || s.Reuses != 0 || len(socks) != requests {
				t.Errorf("not kept: stats %+v, %d distinct sockets, want %d", s, len(socks), requests)
			}
			if len(lines) != requests {
				t.Errorf("access log has %d lines", len(lines))
			}
		})
	}
}

// TestFPMMaxRequests: at pm.max_requests php-fpm ends the request and
// closes the kept connection; the client redials without an error reaching
// the caller, both when its probe sees the close (a pause between
// requests) and when the next request is written before it (back to back:
// php-fpm drains the request unread, and the client sends it again).
func TestFPMMaxRequests(t *testing.T) {
	for _, pause := range []time.Duration{100 * time.Millisecond, 0} {
		t.Run(fmt.Sprint("pause=", pause), func(t *testing.T) {
			f := startFPM(t, lab.FPMConfig{Children: 1, MaxRequests: 3})
			c := &Client{Network: f.Network, Addr: f.Addr, KeepAlive: true, MaxConns: 1}
			defer c.Close()
			var socks []string
			for range 7 {
				_, s := connID(t, c, f)
				socks = append(socks, s)
				time.Sleep(pause)
			}
			// Requests 1-3, 4-6 and 7 each share a connection (and a worker).
			if socks[0] != socks[2] || socks[3] != socks[5] || socks[0] == socks[3] || socks[3] == socks[6] {
				t.Errorf("connections per request: %q", socks)
			}
			if s := c.Stats(); s.Dials < 3 || s.Dials > 5 {
				t.Errorf("stats %+v, want 3 dials (and one more for each request drained unread)", s)
			}
		})
	}
}

func TestFPMBackendDown(t *testing.T) {
	f := startFPM(t, lab.FPMConfig{})
	c := &Client{Network: f.Network, Addr: f.Addr, KeepAlive: true, MaxConns: 1}
	defer c.Close()
	connID(t, c, f)
	f.Stop()
	// The kept connection is dead and the socket gone.
	_, err := c.Do(context.Background(), &Request{Params: fpmRequest(f, "conn.php", "GET")}, io.Discard)
	if !errors.Is(err, ErrBackendUnavailable) {
		t.Errorf("after stop: %v", err)
	}
	if _, err := os.Stat(f.Addr); err == nil {
		// php-fpm removes its socket on exit; if not, the dial is refused.
		t.Logf("socket %s still present", f.Addr)
	}
}

func TestFPMSlow(t *testing.T) {
	f := startFPM(t, lab.FPMConfig{})
	c := &Client{Network: f.Network, Addr: f.Addr, ReadTimeout: 500 * time.Millisecond}
	var out bytes.Buffer
	_, err := c.Do(context.Background(), &Request{Params: fpmRequest(f, "slow.php", "GET")}, &out)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("slow script: %v", err)
	}
	// The same request with the default read timeout completes.
	c2 := &Client{Network: f.Network, Addr: f.Addr}
	out.Reset()
	if _, err := c2.Do(context.Background(), &Request{Params: fpmRequest(f, "slow.php", "GET")}, &out); err != nil || !strings.HasSuffix(out.String(), "slowdone") {
		t.Errorf("with the default timeout: %q, %v", out.String(), err)
	}
}

// pidWriter parses the worker pid from the first line of stream.php and
// calls onPID once.
type pidWriter struct {
	buf   bytes.Buffer
	once  sync.Once
	onPID func(pid int)
}

func (w *pidWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if i := bytes.Index(w.buf.Bytes(), []byte("pid=")); i >= 0 {
		if j := bytes.IndexByte(w.buf.Bytes()[i:], '\n'); j > 0 {
			var pid int
			fmt.Sscanf(string(w.buf.Bytes()[i+4:i+j]), "%d", &pid)
			w.once.Do(func() { w.onPID(pid) })
		}
	}
	return len(p), nil
}

func TestFPMKilledMidResponse(t *testing.T) {
	f := startFPM(t, lab.FPMConfig{})
	c := &Client{Network: f.Network, Addr: f.Addr, KeepAlive: true, MaxConns: 1}
	defer c.Close()
	w := &pidWriter{onPID: func(pid int) { f.KillWorker(t, pid) }}
	res, err := c.Do(context.Background(), &Request{Params: fpmRequest(f, "stream.php", "GET")}, w)
	if !errors.Is(err, ErrIncompleteResponse) || res != nil {
		t.Errorf("killed worker: %v", err)
	}
	if !strings.Contains(w.buf.String(), "pid=") || c.Stats().Open != 0 {
		t.Errorf("output %d bytes, stats %+v", w.buf.Len(), c.Stats())
	}
	// The master replaces the worker; the next request works.
	var out bytes.Buffer
	deadline := time.Now().Add(10 * time.Second)
	for {
		out.Reset()
		_, err = c.Do(context.Background(), &Request{Params: fpmRequest(f, "status.php", "GET")}, &out)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || !strings.HasSuffix(out.String(), "missing") {
		t.Errorf("after the kill: %q, %v", out.String(), err)
	}
}

// TestFPMClientAbort: when the web client goes away the client closes the
// php-fpm connection (php-fpm ignores ABORT_REQUEST); PHP then fails its
// next write and frees the only worker for the next request.
func TestFPMClientAbort(t *testing.T) {
	f := startFPM(t, lab.FPMConfig{Children: 1})
	c := &Client{Network: f.Network, Addr: f.Addr, KeepAlive: true, MaxConns: 1}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	w := &pidWriter{onPID: func(int) { cancel() }}
	start := time.Now()
	_, err := c.Do(ctx, &Request{Params: fpmRequest(f, "stream.php", "GET")}, w)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("aborted request: %v", err)
	}
	if s := c.Stats(); s.Open != 0 {
		t.Errorf("connection not closed: %+v", s)
	}
	// stream.php would run ~3 s; with one worker, a quick answer shows the
	// script stopped when its connection closed.
	var out bytes.Buffer
	if _, err := c.Do(context.Background(), &Request{Params: fpmRequest(f, "status.php", "GET")}, &out); err != nil || !strings.HasSuffix(out.String(), "missing") {
		t.Errorf("next request: %q, %v", out.String(), err)
	}
	lines := f.AccessLines(t, 2)
	if !strings.Contains(lines[0], " GET 200 "+f.Script("stream.php")) {
		t.Errorf("access log: %q", lines)
	}
	t.Logf("abort to next response: %v", time.Since(start))
}

func md5sum(s string) [16]byte { return md5.Sum([]byte(s)) }

// TestFPMPoolBound sends more concurrent requests than php-fpm has workers
// through a client bounded at pm.max_children: every request is served,
// over at most that many connections, by at most that many workers.
func TestFPMPoolBound(t *testing.T) {
	const children, requests = 2, 12
	f := startFPM(t, lab.FPMConfig{Children: children})
	c := &Client{Network: f.Network, Addr: f.Addr, KeepAlive: true, MaxConns: children}
	defer c.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	pids := map[string]bool{}
	for range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pid, _ := connID(t, c, f)
			mu.Lock()
			pids[pid] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	s := c.Stats()
	if s.Dials > children || s.Requests != requests || len(pids) > children {
		t.Errorf("stats %+v, workers %v; want at most %d connections", s, pids, children)
	}
	if lines := f.AccessLines(t, requests); len(lines) != requests {
		t.Errorf("access log: %d lines", len(lines))
	}
}

// TestFPMNoRerunAfterKill: a request whose worker goes away mid-script on
// a kept connection, before any output — killed (a crash, the OOM killer)
// or stopped by php-fpm's graceful reload (kill -USR2) — is an error for
// that request, never a silent second run on a fresh connection: its side
// effects would happen twice. That holds for a GET as for a POST; only a
// request php-fpm never saw is sent again (TestFPMMaxRequests,
// TestClientRetriesUndelivered).
func TestFPMNoRerunAfterKill(t *testing.T) {
	for _, tc := range []struct{ method, how string }{{"GET", "kill"}, {"POST", "kill"}, {"GET", "reload"}, {"POST", "reload"}} {
		t.Run(tc.method+"-"+tc.how, func(t *testing.T) {
			// On reload the worker gets SIGQUIT, then SIGTERM a second
			// later, within once.php's second of work.
			f := startFPM(t, lab.FPMConfig{Children: 1, Global: "process_control_timeout = 1s"})
			c := &Client{Network: f.Network, Addr: f.Addr, KeepAlive: true, MaxConns: 1}
			defer c.Close()
			var out bytes.Buffer
			if _, err := c.Do(context.Background(), &Request{Params: fpmRequest(f, "status.php", "GET")}, &out); err != nil {
				t.Fatal(err)
			}
			dir := lab.TempDir(t)
			if err := os.Chmod(dir, 0o777); err != nil { // the worker's user writes here
				t.Fatal(err)
			}
			count := filepath.Join(dir, "once.count")
			stopped := make(chan bool, 1)
			go func() {
				for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
					if b, _ := os.ReadFile(count); len(b) > 0 {
						if tc.how == "reload" {
							f.Reload(t)
						} else {
							for _, pid := range f.WorkerPIDs() {
								f.KillWorker(t, pid)
							}
						}
						stopped <- true
						return
					}
				}
				stopped <- false
			}()
			out.Reset()
			ps := fpmRequest(f, "once.php", tc.method, Param{"COUNT_FILE", count})
			res, err := c.Do(context.Background(), &Request{Params: ps}, &out)
			if !<-stopped {
				t.Fatalf("once.php never started: %q, %v", out.String(), err)
			}
			if !errors.Is(err, ErrIncompleteResponse) || res != nil {
				t.Errorf("worker gone mid-script: res %+v, err %v (output %q)", res, err, out.String())
			}
			time.Sleep(2500 * time.Millisecond) // a re-run would have finished by now
			if b, _ := os.ReadFile(count); string(b) != "run\n" {
				t.Errorf("once.php ran %d times", strings.Count(string(b), "run"))
			}
		})
	}
}
