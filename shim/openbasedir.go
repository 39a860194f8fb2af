package shim

import (
	"os"
	"path/filepath"
	"strings"
)

// maxPathLen is PHP's MAXPATHLEN on Linux: longer paths are never within
// open_basedir.
const maxPathLen = 4096

// phpCWD is the working directory PHP resolves relative open_basedir
// entries (and the entry ".") against when mod_php applies an .htaccess:
// Apache's, which is / for the daemon.
const phpCWD = "/"

// openBasedirAllowed reports whether PHP lets an access file change
// open_basedir from cur to next. mod_php applies .htaccess values at
// PHP_INI_STAGE_HTACCESS, where php-src main/fopen_wrappers.c
// OnUpdateBaseDir only tightens: anything goes while cur is empty; an
// empty next is refused; otherwise no entry of next may start with a ".."
// component, and every one must lie within cur as php_check_open_basedir_ex decides it, on
// resolved real paths (a symbolic link to / inside the document root is
// not within it). php-fpm applies PHP_VALUE at the activation stage, where
// any value goes, so the shim decides instead. The decision reads the file
// system: symbolic links change, so it is made for every request.
func openBasedirAllowed(cur, next string) bool {
	if cur == "" {
		return true
	}
	if next == "" {
		return false
	}
	for _, e := range cEntries(next) {
		if leadingDotDot(e) || !withinOpenBasedir(cur, e) {
			return false
		}
	}
	return true
}

// cEntries splits a ':' list as PHP's loops over open_basedir do (while
// (ptr && *ptr) { end = strchr(ptr, ':') ... }): an empty entry is checked
// (and fails) when more follows it, a trailing ':' ends the list.
func cEntries(list string) []string {
	var out []string
	for list != "" {
		e, rest, found := strings.Cut(list, ":")
		out = append(out, e)
		if !found {
			break
		}
		list = rest
	}
	return out
}

// leadingDotDot is OnUpdateBaseDir's refusal, in PHP 8.2, of an entry
// whose first component is ".."; a ".." further on is folded by
// expand_filepath like any path (TestIntegrationOpenBasedir).
func leadingDotDot(p string) bool {
	return p == ".." || strings.HasPrefix(p, "../")
}

// withinOpenBasedir is php_check_open_basedir_ex(path) with open_basedir
// cur: some entry of cur holds path (an empty entry holds nothing).
func withinOpenBasedir(cur, path string) bool {
	if len(path) > maxPathLen-1 {
		return false
	}
	for _, b := range strings.Split(cur, ":") {
		if b != "" && withinBasedir(b, path) {
			return true
		}
	}
	return false
}

// withinBasedir is php_check_specific_open_basedir(basedir, path): the
// real path of path (or of its longest existing leading part; a broken
// symbolic link counts as its target), with a trailing slash when path
// ends in one, lies at or under basedir, which is expanded (symbolic links
// resolved) and compared with a trailing slash.
func withinBasedir(basedir, path string) bool {
	if path == "" {
		return false
	}
	local := basedir
	if basedir == "." {
		local = phpCWD
	}
	name, ok := phpResolveName(path)
	if !ok {
		return false
	}
	// The slash is added unless basedir as written ends in one, even when
	// the expansion does: "." (the working directory /) and a link to /
	// become "//", which holds nothing (as PHP 8.2 does).
	rb := expandFilepath(local)
	if !strings.HasSuffix(basedir, "/") || !strings.HasSuffix(rb, "/") {
		rb += "/"
	}
	if strings.HasPrefix(name, rb) {
		return true
	}
	// "/openbasedir/" and "/openbasedir" are the same directory.
	return name+"/" == rb
}

// phpResolveName resolves the path being checked as
// php_check_specific_open_basedir does: expand it, then realpath(3) it;
// when that fails, the first time a broken symbolic link is replaced by
// its target, and the last component is dropped until a leading part
// resolves. A trailing slash of the expanded path is kept.
func phpResolveName(path string) (string, bool) {
	tmp := expandFilepath(path)
	slash := strings.HasSuffix(tmp, "/") && tmp != "/"
	for nesting := 0; ; nesting++ {
		if r, err := filepath.EvalSymlinks(tmp); err == nil {
			if slash && nesting == 0 && !strings.HasSuffix(r, "/") {
				r += "/"
			}
			return r, true
		}
		if nesting == 0 {
			if target, err := os.Readlink(strings.TrimSuffix(tmp, "/")); err == nil {
				tmp = target
			}
		}
		i := strings.LastIndexByte(tmp, '/')
		if i < 0 {
			return "", false
		}
		tmp = tmp[:i]
		if tmp == "" {
			// PHP stops rather than resolve "" (the working directory);
			// only the root itself is left.
			return "/", true
		}
	}
}

// maxLinks bounds the symbolic links followed in one expansion, as the
// kernel's ELOOP does.
const maxLinks = 40

// expandFilepath is PHP's expand_filepath (virtual_file_ex with
// CWD_FILEPATH): the path made absolute against phpCWD, "." and ".."
// folded, each symbolic link replaced by its target even when that target
// does not exist, components past the first missing one taken as written,
// a trailing slash kept.
func expandFilepath(p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(phpCWD, p)
	}
	slash := strings.HasSuffix(p, "/")
	todo := strings.Split(filepath.Clean(p), "/")[1:]
	done, links := "/", 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		if c == "" || c == "." {
			continue
		}
		if c == ".." {
			done = filepath.Dir(done)
			continue
		}
		next := filepath.Join(done, c)
		fi, err := os.Lstat(next)
		if err != nil {
			done = filepath.Join(append([]string{next}, todo...)...)
			break
		}
		if fi.Mode()&os.ModeSymlink == 0 || links >= maxLinks {
			done = next
			continue
		}
		target, err := os.Readlink(next)
		if err != nil {
			done = next
			continue
		}
		links++
		if filepath.IsAbs(target) {
			done = "/"
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	if slash && done != "/" {
		done += "/"
	}
	return done
}
