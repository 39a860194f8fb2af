package parser

import (
	"path"
	"strings"
)

// CleanPath returns a server path cleaned, with no trailing slash (except
// "/"); "" stays "".
func CleanPath(p string) string {
	if p == "" {
		return ""
	}
	return path.Clean(p)
}

// PathUnder reports whether the server path p is dir or inside it (both
// absolute; they are cleaned first).
func PathUnder(p, dir string) bool {
	p, dir = CleanPath(p), CleanPath(dir)
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}
