package shim

import (
	"strings"

	"github.com/modphp-migrate/modphp-migrate/fcgi"
	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
)

// firewalled are the params php-fpm obeys as instructions
// (docs/behaviour.md#b-env-to-fpm): PHP_VALUE and PHP_ADMIN_VALUE set INI
// directives for the worker's
// lifetime, REQUEST_BODY_FILE makes php://input read any file. Apache
// passes whatever .htaccess SetEnv, SetEnvIf or RewriteRule [E=] put in the
// environment (docs/behaviour.md#b-env-to-fpm), and an internal redirect copies them as
// REDIRECT_ names, so every prefixed form is dropped too. The list is
// fpmconf.RequestParams, the one lint (MPM1006) and the plan use.
var firewalled = fpmconf.RequestParamNames()

// neverUnprefixed are the names (exact) and prefixes (ending in _ or *)
// that the REDIRECT_ fix never creates from a REDIRECT_ copy: the server
// sets them itself for the final request, and a stale or user-made copy
// must not stand in for them. URL, STATUS, HANDLER and ERROR_NOTES exist
// only prefixed (httpd http_request.c, custom-error.xml); mod_php did not
// show them unprefixed (docs/behaviour.md#b-redirect-env).
var neverUnprefixed = []string{
	"PHP_*", "REQUEST_BODY_FILE", "SCRIPT_*", "PATH_*", "PATH", "DOCUMENT_ROOT", "CONTEXT_*",
	"QUERY_STRING", "REQUEST_*", "SERVER_*", "GATEWAY_INTERFACE", "CONTENT_*",
	"REMOTE_*", "HTTPS", "URL", "STATUS", "HANDLER", "ERROR_NOTES",
}

const redirectPrefix = "REDIRECT_"

// stripRedirect removes every leading REDIRECT_ and returns the base name
// and how many there were.
func stripRedirect(name string) (string, int) {
	d := 0
	for len(name) > len(redirectPrefix) && foldsTo(name[0], 'r') && strings.EqualFold(name[:len(redirectPrefix)], redirectPrefix) {
		name = name[len(redirectPrefix):]
		d++
	}
	return name, d
}

// foldsTo reports whether a name starting with byte b can equal, in
// strings.EqualFold's sense, one starting with the lower-case ASCII letter
// lower: only the ASCII letter itself does for p and r, which no other
// rune case-folds to (unlike k and s: the Kelvin sign, long s).
func foldsTo(b, lower byte) bool { return b|0x20 == lower }

// Firewalled reports whether a param is one php-fpm must never receive from
// Apache: PHP_VALUE, PHP_ADMIN_VALUE, REQUEST_BODY_FILE in any letter case
// and behind any number of REDIRECT_ prefixes.
func Firewalled(name string) bool {
	base, _ := stripRedirect(name)
	if base == "" || !foldsTo(base[0], 'p') && !foldsTo(base[0], 'r') {
		return false // the common case, decided without EqualFold
	}
	for _, f := range firewalled {
		if strings.EqualFold(base, f) {
			return true
		}
	}
	return false
}

// neverFromEnv reports whether a name must not be created by removing a
// REDIRECT_ prefix.
func neverFromEnv(name string) bool {
	up := strings.ToUpper(name)
	for _, p := range neverUnprefixed {
		if pre, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(up, pre) {
				return true
			}
		} else if up == p {
			return true
		}
	}
	return false
}

// ApplyEnvPolicy returns the params to forward to php-fpm and the names it
// dropped:
//
//   - the firewall removes PHP_VALUE, PHP_ADMIN_VALUE, REQUEST_BODY_FILE and
//     their REDIRECT_ forms (see Firewalled);
//   - the REDIRECT_ fix adds, for each REDIRECT_X whose X is absent, X with
//     the same value, peeling one prefix at a time (REDIRECT_REDIRECT_FOO
//     gives REDIRECT_FOO and FOO), the least-prefixed copy winning, except
//     for names that must never come from the environment (neverFromEnv).
//     Under ProxyPassMatch only the REDIRECT_ copies reach the backend,
//     where mod_php showed both (docs/behaviour.md#b-redirect-env).
//
// Order is kept; added params follow the originals.
func ApplyEnvPolicy(in fcgi.Params) (out fcgi.Params, dropped []string) {
	out = make(fcgi.Params, 0, len(in)+4)
	redirects := false
	for _, p := range in {
		if Firewalled(p.Name) {
			dropped = append(dropped, p.Name)
			continue
		}
		out = append(out, p)
		if _, d := stripRedirect(p.Name); d > 0 {
			redirects = true
		}
	}
	if !redirects {
		return out, dropped
	}
	present := make(map[string]bool, len(out))
	for _, p := range out {
		present[p.Name] = true
	}
	n := len(out)
	// Shallowest copies first, so that REDIRECT_FOO beats
	// REDIRECT_REDIRECT_FOO as the source of FOO.
	for depth := 1; ; depth++ {
		more := false
		for _, p := range out[:n] {
			base, d := stripRedirect(p.Name)
			if d < depth {
				continue
			}
			more = true
			if d != depth || neverFromEnv(base) {
				continue
			}
			name := p.Name
			for range d {
				name = name[len(redirectPrefix):]
				if !present[name] {
					present[name] = true
					out = append(out, fcgi.Param{Name: name, Value: p.Value})
				}
			}
		}
		if !more {
			break
		}
	}
	return out, dropped
}
