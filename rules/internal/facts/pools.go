package facts

import (
	"path"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
)

// PoolsFor returns the php-fpm pools listening where backend connects,
// nil when none does (or there is no php-fpm configuration).
func PoolsFor(pools []*fpmconf.Pool, backend string) []*fpmconf.Pool {
	network, addr := BackendAddr(backend)
	var out []*fpmconf.Pool
	for _, pl := range pools {
		l := pl.Listen
		switch {
		case network == "unix" && strings.HasPrefix(l, "/"):
			if path.Clean(l) == path.Clean(addr) {
				out = append(out, pl)
			}
		case network == "tcp" && !strings.HasPrefix(l, "/"):
			lh, lp := "", l // "9000": every address
			if i := strings.LastIndex(l, ":"); i >= 0 {
				lh, lp = l[:i], l[i+1:]
			}
			ah, ap := addr, ""
			if i := strings.LastIndex(addr, ":"); i >= 0 {
				ah, ap = addr[:i], addr[i+1:]
			}
			if lp != ap {
				continue
			}
			if lh == "" || lh == "*" || lh == "0.0.0.0" || lh == "[::]" || strings.EqualFold(lh, ah) ||
				(ah == "localhost" && (lh == "127.0.0.1" || lh == "[::1]")) || (lh == "localhost" && ah == "127.0.0.1") {
				out = append(out, pl)
			}
		}
	}
	return out
}
