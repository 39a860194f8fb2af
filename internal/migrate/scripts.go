package migrate

import (
	"bytes"
	"io/fs"
	"path/filepath"
	"strings"
)

// authMarkers are what a PHP script that reads the Authorization header
// contains: mod_php filled PHP_AUTH_USER/PHP_AUTH_PW (and
// HTTP_AUTHORIZATION) from it on every request; mod_proxy_fcgi passes it
// only with CGIPassAuth On.
var authMarkers = [][]byte{[]byte("PHP_AUTH_USER"), []byte("PHP_AUTH_PW"), []byte("HTTP_AUTHORIZATION"),
	[]byte("getallheaders"), []byte("apache_request_headers")}

// maxScriptScan is the largest script read for authMarkers; bigger files
// are generated code or data.
const maxScriptScan = 1 << 20

// isScript reports whether a file name is a PHP script or include.
func isScript(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".php", ".phtml", ".inc":
		return true
	}
	return false
}

// isRun reports whether a file name is one Debian's mod_php handler runs
// (.php, .phtml, .phar), not an include.
func isRun(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".php", ".phtml", ".phar":
		return true
	}
	return false
}

// readsAuthHeader reports whether the script at hostPath reads the
// Authorization header.
func (b *builder) readsAuthHeader(hostPath string, size int64) bool {
	if size > maxScriptScan {
		return false
	}
	data, err := b.fs.ReadFile(hostPath)
	if err != nil {
		return false
	}
	for _, m := range authMarkers {
		if bytes.Contains(data, m) {
			return true
		}
	}
	return false
}

// scanAuth walks a scope's directory for a script that reads the
// Authorization header, and returns its server path ("" if none).
func (b *builder) scanAuth(s *Scope) string {
	found, n := "", 0
	_ = b.fs.WalkDir(b.host(s.Dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || found != "" || n > maxPermissionEntries {
			return filepath.SkipDir
		}
		n++
		if !d.Type().IsRegular() || !isScript(d.Name()) {
			return nil
		}
		if fi, err := d.Info(); err == nil && b.readsAuthHeader(p, fi.Size()) {
			found = b.server(p)
		}
		return nil
	})
	return found
}

// serverPath turns a path on disk back into the server's (the --root
// prefix removed).
func (b *builder) serverPath(hostPath string) string {
	if b.in.Root == "" {
		return hostPath
	}
	if rel, err := filepath.Rel(b.in.Root, hostPath); err == nil {
		return "/" + rel
	}
	return hostPath
}
