package shim

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
)

// pp builds params from name, value pairs.
func pp(kv ...string) fcgi.Params {
	ps := fcgi.Params{}
	for i := 0; i+1 < len(kv); i += 2 {
		ps = append(ps, fcgi.Param{Name: kv[i], Value: kv[i+1]})
	}
	return ps
}

func TestFirewalled(t *testing.T) {
	for name, want := range map[string]bool{
		"PHP_VALUE": true, "PHP_ADMIN_VALUE": true, "REQUEST_BODY_FILE": true,
		"REDIRECT_PHP_VALUE": true, "REDIRECT_REDIRECT_PHP_ADMIN_VALUE": true,
		"REDIRECT_REQUEST_BODY_FILE": true, "php_value": true, "Redirect_Php_Value": true,
		"PHP_VALUES": false, "PHP_AUTH_USER": false, "HTTP_PHP_VALUE": false,
		"REDIRECT_": false, "REDIRECT_URL": false, "X_PHP_VALUE": false,
	} {
		if got := Firewalled(name); got != want {
			t.Errorf("Firewalled(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestApplyEnvPolicy replays docs/behaviour.md#b-redirect-env (ProxyPassMatch: only the
// REDIRECT_ copies arrive) and §3g (SetEnv PHP_VALUE/PHP_ADMIN_VALUE).
func TestApplyEnvPolicy(t *testing.T) {
	for _, tc := range []struct {
		name        string
		in, want    fcgi.Params
		wantDropped []string
	}{
		{
			name: "A.3c ProxyPassMatch after rewrite",
			in:   pp("REDIRECT_HTTP_AUTHORIZATION", "Bearer x", "REDIRECT_FOO", "bar", "REDIRECT_STATUS", "200", "REDIRECT_URL", "/rw/some/route", "SCRIPT_FILENAME", "proxy:fcgi://127.0.0.1:9000/www/rw/index.php"),
			want: pp("REDIRECT_HTTP_AUTHORIZATION", "Bearer x", "REDIRECT_FOO", "bar", "REDIRECT_STATUS", "200", "REDIRECT_URL", "/rw/some/route", "SCRIPT_FILENAME", "proxy:fcgi://127.0.0.1:9000/www/rw/index.php", "HTTP_AUTHORIZATION", "Bearer x", "FOO", "bar"),
		},
		{
			name: "A.3c SetHandler: unprefixed already present, kept as is",
			in:   pp("REDIRECT_FOO", "old", "FOO", "bar", "REDIRECT_STATUS", "200"),
			want: pp("REDIRECT_FOO", "old", "FOO", "bar", "REDIRECT_STATUS", "200"),
		},
		{
			name:        "A.3g SetEnv PHP_VALUE and PHP_ADMIN_VALUE",
			in:          pp("PHP_ADMIN_VALUE", "open_basedir=/", "PHP_VALUE", "auto_prepend_file=/x/prepend.php", "REDIRECT_PHP_VALUE", "x=1", "REDIRECT_REDIRECT_PHP_ADMIN_VALUE", "y=1", "REQUEST_BODY_FILE", "/etc/os-release", "REDIRECT_REQUEST_BODY_FILE", "/etc/shadow", "HTTP_HOST", "h"),
			want:        pp("HTTP_HOST", "h"),
			wantDropped: []string{"PHP_ADMIN_VALUE", "PHP_VALUE", "REDIRECT_PHP_VALUE", "REDIRECT_REDIRECT_PHP_ADMIN_VALUE", "REQUEST_BODY_FILE", "REDIRECT_REQUEST_BODY_FILE"},
		},
		{
			name: "never from the environment",
			in:   pp("REDIRECT_PHP_AUTH_USER", "a", "REDIRECT_SCRIPT_FILENAME", "/x", "REDIRECT_PATH_INFO", "/p", "REDIRECT_PATH", "/bin", "REDIRECT_DOCUMENT_ROOT", "/", "REDIRECT_CONTEXT_DOCUMENT_ROOT", "/", "REDIRECT_QUERY_STRING", "q", "REDIRECT_REQUEST_METHOD", "PUT", "REDIRECT_SERVER_NAME", "s", "REDIRECT_GATEWAY_INTERFACE", "g", "REDIRECT_CONTENT_LENGTH", "9", "REDIRECT_REMOTE_USER", "u", "REDIRECT_HTTPS", "on", "REDIRECT_URL", "/u", "REDIRECT_STATUS", "200", "REDIRECT_HANDLER", "h", "REDIRECT_ERROR_NOTES", "e"),
			want: pp("REDIRECT_PHP_AUTH_USER", "a", "REDIRECT_SCRIPT_FILENAME", "/x", "REDIRECT_PATH_INFO", "/p", "REDIRECT_PATH", "/bin", "REDIRECT_DOCUMENT_ROOT", "/", "REDIRECT_CONTEXT_DOCUMENT_ROOT", "/", "REDIRECT_QUERY_STRING", "q", "REDIRECT_REQUEST_METHOD", "PUT", "REDIRECT_SERVER_NAME", "s", "REDIRECT_GATEWAY_INTERFACE", "g", "REDIRECT_CONTENT_LENGTH", "9", "REDIRECT_REMOTE_USER", "u", "REDIRECT_HTTPS", "on", "REDIRECT_URL", "/u", "REDIRECT_STATUS", "200", "REDIRECT_HANDLER", "h", "REDIRECT_ERROR_NOTES", "e"),
		},
		{
			name: "any depth, least-prefixed copy wins",
			in:   pp("REDIRECT_REDIRECT_FOO", "deep", "REDIRECT_FOO", "shallow", "REDIRECT_REDIRECT_BAR", "b2"),
			want: pp("REDIRECT_REDIRECT_FOO", "deep", "REDIRECT_FOO", "shallow", "REDIRECT_REDIRECT_BAR", "b2", "FOO", "shallow", "REDIRECT_BAR", "b2", "BAR", "b2"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, dropped := ApplyEnvPolicy(tc.in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("params:\n got %q\nwant %q", got, tc.want)
			}
			if !slices.Equal(dropped, tc.wantDropped) {
				t.Errorf("dropped = %q, want %q", dropped, tc.wantDropped)
			}
		})
	}
}

func TestStripProxyPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"proxy:fcgi://localhost/tmp/lab/www/ini.php":                        "/tmp/lab/www/ini.php",
		"proxy:fcgi://127.0.0.1:9100/tmp/lab/www/uploads/ok.php/extra/path": "/tmp/lab/www/uploads/ok.php/extra/path",
		"/tmp/lab/www/ini.php":                                              "/tmp/lab/www/ini.php",
		"proxy:fcgi://localhost":                                            "",
	} {
		if got := StripProxyPrefix(in); got != want {
			t.Errorf("StripProxyPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFoldsToIsExact: no rune but the ASCII letters themselves case-folds
// to p or r, so foldsTo's one-byte test loses no name strings.EqualFold
// would match (it would for k and s).
func TestFoldsToIsExact(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		s := string(r)
		for _, l := range []byte{'p', 'r'} {
			if strings.EqualFold(s, string(l)) != foldsTo(s[0], l) {
				t.Errorf("rune %U: EqualFold with %q is %v, foldsTo says %v", r, l, !foldsTo(s[0], l), foldsTo(s[0], l))
			}
		}
	}
	if strings.EqualFold("\u212a", "k") == foldsTo("\u212a"[0], 'k') {
		t.Error("the Kelvin sign case-folds to k: foldsTo must not be used for k")
	}
}
