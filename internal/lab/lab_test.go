package lab_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

func TestStartFPM(t *testing.T) {
	f := lab.StartFPM(t, lab.FPMConfig{
		Children: 2,
		Scripts:  map[string]string{"hello.php": `<?php echo "hello from ", PHP_SAPI, "\n";`},
	})
	if pids := f.WorkerPIDs(); len(pids) != 2 {
		t.Errorf("workers %v, want 2", pids)
	}
	// php-fpm 8.2 answers GET_VALUES with FCGI_MPXS_CONNS=0 only
	// (docs/behaviour.md#b-fpm-connections).
	vals, err := fcgi.GetValues(context.Background(), f.Network, f.Addr, fcgi.ValueMaxConns, fcgi.ValueMaxReqs, fcgi.ValueMpxsConns)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(vals) != "[{FCGI_MPXS_CONNS 0}]" {
		t.Errorf("GET_VALUES_RESULT = %v", vals)
	}
	var out strings.Builder
	c := &fcgi.Client{Network: f.Network, Addr: f.Addr}
	_, err = c.Do(context.Background(), &fcgi.Request{Params: fcgi.Params{
		{Name: "SCRIPT_FILENAME", Value: f.Script("hello.php")}, {Name: "REQUEST_METHOD", Value: "GET"},
	}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Content-type: text/html; charset=UTF-8\r\n\r\nhello from fpm-fcgi\n"; out.String() != want {
		t.Errorf("response %q, want %q", out.String(), want)
	}
	lines := f.AccessLines(t, 1)
	if want := fmt.Sprintf(" GET 200 %s 0", f.Script("hello.php")); len(lines) != 1 || !strings.HasSuffix(lines[0], want) {
		t.Errorf("access log %q, want a line ending %q", lines, want)
	}
	f.Stop()
	if _, err := c.Do(context.Background(), &fcgi.Request{}, io.Discard); err == nil {
		t.Error("request after Stop succeeded")
	}
}

func TestStartApache(t *testing.T) {
	a := lab.StartApache(t, "Alias /extra {{Dir}}/extra\n<Directory {{Dir}}/extra>\n    Require all granted\n</Directory>")
	if err := os.WriteFile(filepath.Join(a.DocRoot, "x.txt"), []byte("static\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(a.URL + "/x.txt")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "static\n" {
		t.Errorf("GET /x.txt: %d %q", resp.StatusCode, body)
	}
	conf, _ := os.ReadFile(a.ConfPath)
	if !strings.Contains(string(conf), "Alias /extra "+a.Dir+"/extra\n") {
		t.Errorf("placeholders not replaced:\n%s", conf)
	}
}

func TestStartShim(t *testing.T) {
	f := lab.StartFPM(t, lab.FPMConfig{
		Scripts: map[string]string{"hello.php": `<?php echo "hello via ", PHP_SAPI, "\n";`},
	})
	s := lab.StartShim(t, lab.BuildCommand(t), lab.ShimSocket(t), "--pool", "unix:"+f.Addr, "--fpm-config", f.ConfPath)
	var out strings.Builder
	c := &fcgi.Client{Network: "unix", Addr: s.Sock}
	_, err := c.Do(context.Background(), &fcgi.Request{Params: fcgi.Params{
		{Name: "SCRIPT_FILENAME", Value: f.Script("hello.php")}, {Name: "REQUEST_METHOD", Value: "GET"},
		{Name: "DOCUMENT_ROOT", Value: f.DocRoot},
	}}, &out)
	if err != nil {
		t.Fatalf("request through the shim: %v\nshim log:\n%s", err, s.LogText())
	}
	if want := "hello via fpm-fcgi\n"; !strings.HasSuffix(out.String(), "\r\n\r\n"+want) {
		t.Errorf("response %q, want a body %q", out.String(), want)
	}
	if log := s.LogText(); !strings.Contains(log, "msg=listening addr=unix:"+s.Sock) {
		t.Errorf("shim log lacks its listening line:\n%s", log)
	}
}
