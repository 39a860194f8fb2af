package facts

import (
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
)

func TestBackendAddr(t *testing.T) {
	for _, tc := range []struct{ in, network, addr string }{
		{"proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost", "unix", "/run/php/php8.2-fpm.sock"},
		{"proxy:fcgi://127.0.0.1:9000", "tcp", "127.0.0.1:9000"},
		{"fcgi://127.0.0.1:9000/var/www/html/$1", "tcp", "127.0.0.1:9000"},
		{"proxy:fcgi://php", "tcp", "php:8000"},
		{"Proxy:UNIX:/x.sock|fcgi://localhost/", "unix", "/x.sock"},
		{"application/x-httpd-php", "", ""},
	} {
		n, a := BackendAddr(tc.in)
		if n != tc.network || a != tc.addr {
			t.Errorf("BackendAddr(%q) = %q, %q; want %q, %q", tc.in, n, a, tc.network, tc.addr)
		}
	}
}

func TestPoolsFor(t *testing.T) {
	pools := []*fpmconf.Pool{
		{Name: "sock", Listen: "/run/php/site.sock"},
		{Name: "any", Listen: "9000"},
		{Name: "lo", Listen: "127.0.0.1:9001"},
		{Name: "v6", Listen: "[::1]:9002"},
	}
	for _, tc := range []struct{ backend, want string }{
		{"proxy:unix:/run/php/site.sock|fcgi://localhost", "sock"},
		{"proxy:unix:/run/php//site.sock|fcgi://localhost", "sock"},
		{"proxy:fcgi://10.0.0.5:9000", "any"},
		{"proxy:fcgi://127.0.0.1:9001", "lo"},
		{"proxy:fcgi://localhost:9001", "lo"},
		{"proxy:fcgi://[::1]:9002", "v6"},
		{"proxy:fcgi://127.0.0.1:9003", ""},
		{"proxy:unix:/run/php/other.sock|fcgi://localhost", ""},
	} {
		got := ""
		if ps := PoolsFor(pools, tc.backend); len(ps) > 0 {
			got = ps[0].Name
		}
		if got != tc.want {
			t.Errorf("PoolsFor(%q) = %q, want %q", tc.backend, got, tc.want)
		}
	}
}
