package facts

import "testing"

func TestFCGIDest(t *testing.T) {
	for _, tc := range []struct {
		target  string
		appends bool
		dir     string
		backref bool
		handler string
	}{
		{"fcgi://127.0.0.1:9000/var/www/site/$1", true, "/var/www/site", true, "proxy:fcgi://127.0.0.1:9000"},
		{"fcgi://127.0.0.1:9000/var/www/e$1", false, "/var/www/e", true, "proxy:fcgi://127.0.0.1:9000"},
		{"unix:/run/php/php8.2-fpm.sock|fcgi://localhost/var/www/b/$1", true, "/var/www/b", true, "proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost"},
		{"unix:///run/php/x.sock|fcgi://localhost/home/u/code", true, "/home/u/code", true, "proxy:unix:///run/php/x.sock|fcgi://localhost"},
		{"fcgi://127.0.0.1:9000/var/www/e/api.php", false, "/var/www/e", false, "proxy:fcgi://127.0.0.1:9000"},
		{"fcgi://127.0.0.1:9000$1", false, "/", true, "proxy:fcgi://127.0.0.1:9000"},
	} {
		dir, backref, handler := fcgiDest(tc.target, tc.appends)
		if dir != tc.dir || backref != tc.backref || handler != tc.handler {
			t.Errorf("fcgiDest(%q, %v) = %q, %v, %q; want %q, %v, %q", tc.target, tc.appends, dir, backref, handler, tc.dir, tc.backref, tc.handler)
		}
	}
}
