package shim

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
)

// chain writes the benchmark tree: /a/b/c/hello.php under three .htaccess
// files (the shape bench/shim/compare.sh measures end to end).
func chain(tb testing.TB, root string) string {
	files := map[string]string{
		"a/.htaccess":     "<IfModule mod_php.c>\nphp_value memory_limit 64M\nphp_flag display_errors off\n</IfModule>\n",
		"a/b/.htaccess":   "<IfModule mod_php.c>\nphp_value include_path \".:/usr/share/php:/srv/lib\"\nphp_value max_execution_time 20\n</IfModule>\n",
		"a/b/c/.htaccess": "<IfModule mod_php.c>\nphp_value memory_limit 96M\n<Files hello.php>\nphp_value user_agent \"bench agent\"\n</Files>\n</IfModule>\n",
		"a/b/c/hello.php": "<?php echo 'hello';\n",
	}
	for n, b := range files {
		p := filepath.Join(root, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(b), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return filepath.Join(root, "a/b/c/hello.php")
}

// BenchmarkResolve is the per-request .htaccess work with a warm cache.
func BenchmarkResolve(b *testing.B) {
	root := b.TempDir()
	script := chain(b, root)
	r, _ := NewResolver(nil, "")
	req := Request{DocRoot: root, Script: script}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Resolve(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServe is one request through the whole shim (Apache side →
// resolver → PHP_VALUE → a fake php-fpm): "new" opens a connection per
// request from the Apache side as mod_proxy_fcgi does by default, "kept"
// reuses one as with enablereuse=on.
func BenchmarkServe(b *testing.B) {
	s := startShim(&testing.T{}, 64, nil)
	script := chain(b, s.root)
	s.srv.state.Load().def.be.Load().info.Baseline["user_agent"] = ""
	s.srv.state.Load().def.be.Load().info.Baseline["include_path"] = ".:/usr/share/php"
	ps := pp("SCRIPT_FILENAME", "proxy:fcgi://localhost"+script, "DOCUMENT_ROOT", s.root, "CONTEXT_DOCUMENT_ROOT", s.root,
		"SCRIPT_NAME", "/a/b/c/hello.php", "REQUEST_URI", "/a/b/c/hello.php", "REQUEST_METHOD", "GET",
		"HTTP_HOST", "127.0.0.1", "HTTP_USER_AGENT", "wrk", "SERVER_NAME", "127.0.0.1", "SERVER_PORT", "80",
		"REMOTE_ADDR", "127.0.0.1", "REMOTE_PORT", "40000", "GATEWAY_INTERFACE", "CGI/1.1", "SERVER_PROTOCOL", "HTTP/1.1")
	kept := &fcgi.Client{Network: s.apache.Network, Addr: s.apache.Addr, KeepAlive: true, MaxConns: 1}
	for _, c := range []struct {
		name   string
		client *fcgi.Client
	}{{"new", s.apache}, {"kept", kept}} {
		b.Run(c.name, func(b *testing.B) {
			var out bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				out.Reset()
				if _, err := c.client.Do(context.Background(), &fcgi.Request{Params: ps}, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	kept.Close()
	s.cancel()
	s.srv.Close()
}
