package shim

import (
	"errors"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/internal/phpini"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// maxAccessFileSize bounds one access file read into memory. httpd reads
// .htaccess line by line with 8190-byte lines; a megabyte is far beyond
// any real one and stops a hostile file from growing memory.
const maxAccessFileSize = 1 << 20

// maxCacheEntries bounds the number of entries in each of the resolver's
// two caches (access files by path, resolutions by request). 100,000
// entries cover every directory of a large shared host.
const maxCacheEntries = 100_000

// maxCacheBytes bounds the memory of each of the two caches, estimated
// from the entries' sizes (entryCost). A typical .htaccess parses into a
// few kilobytes, so 64 MiB holds tens of thousands of them; a host with
// more is served by re-reading the files evicted.
const maxCacheBytes = 64 << 20

// entryOverhead estimates a cache entry's fixed memory: the map slot, the
// entry and its headers.
const entryOverhead = 160

// Request is what the resolver needs to know about one request.
type Request struct {
	DocRoot    string // CONTEXT_DOCUMENT_ROOT or DOCUMENT_ROOT
	Script     string // absolute path of the script file, path-info removed
	URI        string // the URI Apache matched <Location> against (SCRIPT_NAME + PATH_INFO)
	ServerName string
	// PathInfo is true when the request's path goes on past the script
	// (PATH_INFO): httpd's directory walk then stops at the script's
	// directory (parser.DirSections).
	PathInfo bool
}

// Resolution is what mod_php would have applied to a request.
type Resolution struct {
	// Settings are the INI values to send, sorted by key.
	Settings []Setting
	// EngineOff is true when php_flag engine off (or php_value engine
	// with a false value) is in effect: mod_php would not run the script.
	EngineOff bool
	// Ignored lists settings mod_php would have ignored silently, with
	// the reason (SYSTEM-only directive, unknown directive, ...), for
	// debug logs.
	Ignored []IgnoredSetting
	// Skipped lists php_* lines of access files that AllowOverride
	// forbids and Nonfatal=Override skips; httpd logs each one, at warn
	// level, on every request.
	Skipped []IgnoredSetting
	// OpenBasedirFromAccess is true when open_basedir comes from an
	// access file: mod_php applies it at PHP_INI_STAGE_HTACCESS, where it
	// may only tighten the current value (php-src main/fopen_wrappers.c
	// OnUpdateBaseDir), while php-fpm would accept any value.
	OpenBasedirFromAccess bool
	// Files are the access files that were read, root first.
	Files []string

	enc     atomic.Pointer[encoded] // PHP_VALUE built from it, see poolRuntime.phpValue
	origins map[string]origin       // by key: where each setting comes from
}

// IgnoredSetting is a php_value or php_flag that does not take effect.
type IgnoredSetting struct {
	Key    string
	Pos    parser.Pos
	Reason string
}

// Resolver computes the php_value/php_flag settings of requests from access
// files and, optionally, the Apache configuration. It is safe for
// concurrent use.
type Resolver struct {
	// AccessNames are the access file names (AccessFileName); the first
	// that exists in a directory is read, as httpd does.
	AccessNames []string
	server      *serverConf
	env         evalEnv
	cache       accessCache

	rmu      sync.RWMutex
	resolved map[string]*resolved // by request key; see Resolve
	resBytes int64                // estimated memory of resolved
	resEvict int64                // resolved entries evicted

	// maxEntries and maxBytes bound each cache (maxCacheEntries and
	// maxCacheBytes; smaller in tests).
	maxEntries int
	maxBytes   int64
}

// NewResolver returns a resolver for access files named names (default
// .htaccess). apacheConfig, when not empty, is the Apache configuration
// whose AllowOverride, AccessFileName, modules and server-config php_*
// lines apply.
func NewResolver(names []string, apacheConfig string) (*Resolver, error) {
	r := &Resolver{AccessNames: names, env: evalEnv{lookup: envLookup(nil, nil)}}
	if apacheConfig != "" {
		sc, err := loadServerConf(apacheConfig, names)
		if err != nil {
			return nil, err
		}
		r.server = sc
		r.env = sc.env
		if len(names) == 0 {
			r.AccessNames = sc.cfg.AccessNames
		}
	}
	if len(r.AccessNames) == 0 {
		r.AccessNames = []string{".htaccess"}
	}
	r.cache.m = map[string]*cacheEntry{}
	r.resolved = map[string]*resolved{}
	r.setLimits(maxCacheEntries, maxCacheBytes)
	return r, nil
}

func (r *Resolver) setLimits(entries int, bytes int64) {
	r.maxEntries, r.maxBytes = entries, bytes
	r.cache.maxEntries, r.cache.maxBytes = entries, bytes
}

// Stats returns the cache's hit and miss counters.
func (r *Resolver) Stats() (hits, misses int64) {
	return r.cache.hits.Load(), r.cache.misses.Load()
}

// CacheUsage returns the entries and estimated bytes held by the
// resolver's caches and how many entries were evicted to stay within
// their bounds.
func (r *Resolver) CacheUsage() (entries int, bytes, evictions int64) {
	r.cache.mu.RLock()
	entries, bytes, evictions = len(r.cache.m), r.cache.bytes, r.cache.evictions
	r.cache.mu.RUnlock()
	r.rmu.RLock()
	entries += len(r.resolved)
	bytes += r.resBytes
	evictions += r.resEvict
	r.rmu.RUnlock()
	return entries, bytes, evictions
}

// merger merges php lines as mod_php merges its per-directory tables
// (modphp.Overrides): a deeper line replaces the enclosing one unless
// that one is php_admin_*, so an outer php_admin_value beats an inner
// php_value.
type merger map[string]phpLine

func (m merger) add(lines []phpLine) {
	for _, l := range lines {
		if old, ok := m[l.key]; ok && !modphp.Overrides(old.kind, l.kind) {
			continue
		}
		m[l.key] = l
	}
}

// dep is one access file path a resolution depended on, and what it was:
// a file identity, or absent.
type dep struct {
	abs     string
	id      fileID
	missing bool
}

// resolved is a cached resolution with what it depended on.
type resolved struct {
	res  *Resolution
	deps []dep
	size int64 // entryCost
}

func (c *resolved) cost() int64 { return c.size }

// resolvedCost estimates the memory of a cached resolution (see
// cachecost.go).
func resolvedCost(key string, res *Resolution, deps []dep) int64 {
	n := int64(resolutionCost + len(key))
	for _, s := range res.Settings {
		n += int64(settingCost + 2*(len(s.Key)+len(s.Value)))
	}
	for _, ig := range res.Ignored {
		n += int64(96 + len(ig.Key) + len(ig.Reason))
	}
	n += int64(96 * len(res.Skipped))
	for _, o := range res.origins {
		n += int64(originCost + len(o.scope))
	}
	for _, f := range res.Files {
		n += int64(16 + len(f))
	}
	for _, d := range deps {
		n += int64(96 + len(d.abs))
	}
	return n
}

// Resolve computes the settings of one request. An *AccessError means the
// request must be answered with its status instead of running.
//
// A request like an earlier one (same root, script, server name and URI)
// reuses that result when every access file it read, or found absent, is
// unchanged: one stat per file, no parsing or merging (mtime checks, no
// blind TTL: Apache re-reads a changed .htaccess on the next request).
func (r *Resolver) Resolve(req Request) (*Resolution, error) {
	pathInfo := ""
	if req.PathInfo {
		pathInfo = "\x00/"
	}
	key := req.DocRoot + "\x00" + req.Script + "\x00" + req.ServerName + "\x00" + req.URI + pathInfo
	r.rmu.RLock()
	c := r.resolved[key]
	r.rmu.RUnlock()
	if c != nil && depsUnchanged(c.deps) {
		r.cache.hits.Add(int64(len(c.deps)))
		return c.res, nil
	}
	var deps []dep
	res, err := r.resolve(req, &deps)
	if err != nil {
		return nil, err
	}
	c = &resolved{res: res, deps: deps, size: resolvedCost(key, res, deps)}
	r.rmu.Lock()
	r.resEvict += store(r.resolved, &r.resBytes, key, c, r.maxEntries, r.maxBytes)
	r.rmu.Unlock()
	return res, nil
}

// depsUnchanged stats every dependency again.
func depsUnchanged(deps []dep) bool {
	for _, d := range deps {
		id, _, err := statID(d.abs)
		if d.missing {
			if err == nil || !(errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
				return false
			}
			continue
		}
		if err != nil || id != d.id {
			return false
		}
	}
	return true
}

func (r *Resolver) resolve(req Request, deps *[]dep) (*Resolution, error) {
	res := &Resolution{}
	m := merger{}
	var vh *vhostScopes
	sc := r.server
	if sc != nil {
		vh = sc.pickVHost(req.ServerName, req.DocRoot)
		m.add(sc.main.server)
		if vh != nil {
			m.add(vh.server)
		}
	}
	scriptDir := path.Dir(req.Script)
	base := path.Base(req.Script)
	var files []filesBlock
	if sc != nil {
		files = append(files, sc.main.files...)
		if vh != nil {
			files = append(files, vh.files...)
		}
	}

	// Access files are read at and below the document root, by the path
	// Apache built from the request (readAccess).
	root, _, inRoot := splitRoot(req.DocRoot, scriptDir)

	// Directory walk from / to the script's directory: the <Directory>
	// sections of each level (parser.DirSections answers which, in
	// httpd's merge order), then that directory's access file; then the
	// sections matching the script's own path when the Options merged on
	// the way say httpd's walk ends on the file; regex sections (level
	// -1, matched against the script's path) after all levels.
	comps := splitPath(scriptDir)
	rootDepth := len(splitPath(root))
	var buf [16]dirHit
	hits := buf[:0]
	var opts parser.Options
	if sc != nil {
		var vhost *parser.VHost
		if vh != nil {
			vhost = vh.vh
		}
		walkDir, file := scriptDir, req.Script
		if !strings.HasPrefix(file, "/") {
			walkDir, file = path.Clean("/"+walkDir), path.Clean("/"+file)
		}
		sc.dirs.Walk(walkDir, file, !req.PathInfo, vhost, func(level, i int) { hits = append(hits, dirHit{level, sc.dirOf[i]}) })
		opts = sc.startOptions(vh)
	}
	for depth := 0; depth <= len(comps); depth++ {
		for ; len(hits) > 0 && hits[0].level == depth; hits = hits[1:] {
			m.add(hits[0].d.lines)
			files = append(files, hits[0].d.files...)
			opts = opts.Merge(hits[0].d.sec.Options)
		}
		if !inRoot || depth < rootDepth {
			continue
		}
		dir := "/" + strings.Join(comps[:depth], "/")
		reads, rule := true, allowRule
		if sc != nil {
			reads, rule = sc.overrideRule(dir, vh)
		}
		if !reads {
			continue
		}
		af, err := r.readAccess(dir, deps)
		if err != nil {
			return nil, err
		}
		if af == nil {
			continue
		}
		res.Files = append(res.Files, af.path)
		dirLines, fileBlocks, err := af.decide(rule, res)
		if err != nil {
			return nil, err
		}
		m.add(dirLines)
		files = append(files, fileBlocks...)
		files = append(files, af.files...)
		if rule.options || rule.list["options"] {
			opts = opts.Merge(af.opts)
		}
	}
	for ; len(hits) > 0 && hits[0].level == len(comps)+1; hits = hits[1:] {
		if opts.FollowsSymLinks() {
			m.add(hits[0].d.lines)
			files = append(files, hits[0].d.files...)
		}
	}
	for _, h := range hits {
		m.add(h.d.lines)
		files = append(files, h.d.files...)
	}
	// <Files>/<FilesMatch> from everywhere, in merge order, after all
	// directories: a parent's <Files x.php> beats a child's plain
	// php_value (docs/behaviour.md#b-modphp-precedence /files/sub/x.php).
	cm := &chainMatcher{base: base}
	for i := range files {
		if cm.matches(files[i].chain) {
			m.add(files[i].lines)
		}
	}
	if sc != nil {
		for _, set := range scopeSets(sc, vh) {
			for i := range set.locs {
				if set.locs[i].match(req.URI) {
					m.add(set.locs[i].lines)
				}
			}
		}
	}
	r.finish(m, res)
	return res, nil
}

// dirHit is a <Directory> section that applies to a request, and the
// level of the directory walk that merges it (-1: after the walk).
type dirHit struct {
	level int
	d     *dirSection
}

// scopeSets returns the main server's scopes, then the vhost's: httpd
// appends a virtual host's sections after the main server's.
func scopeSets(sc *serverConf, vh *vhostScopes) []*scopeSet {
	if vh == nil {
		return []*scopeSet{&sc.main}
	}
	return []*scopeSet{&sc.main, &vh.scopeSet}
}

// refusedKeys are never sent even from server config: under php-fpm they
// load code into or disable functions in the worker for good (docs/behaviour.md#b-fpm-php-value, #b-env-to-fpm).
var refusedKeys = map[string]bool{
	"extension": true, "zend_extension": true, "disable_functions": true, "disable_classes": true,
}

// finish applies mod_php's apply_config rules to the merged entries:
// zend_alter_ini_entry_chars with the entry's status fails, silently,
// for unknown directives and when the directive's mask lacks that status
// (PHP_INI_SYSTEM directives from php_value, docs/behaviour.md#b-modphp-system).
//
// Keys and values are copied: in an access file they are slices of its
// bytes, and a cached resolution must not keep a whole (since edited)
// file alive.
func (r *Resolver) finish(m merger, res *Resolution) {
	for key, l := range m {
		key := strings.Clone(key)
		if key == modphp.EngineKey {
			// apache2handler's engine directive: php-fpm has none
			// ("unable to set 'engine'", docs/behaviour.md#b-modphp-engine); the shim
			// answers 403 itself.
			res.EngineOff = !modphp.Bool(l.value)
			continue
		}
		mode, known := phpini.Lookup(key)
		reason := ""
		switch {
		case refusedKeys[key]:
			reason = "never passed to php-fpm (changes the worker for good)"
		case !known:
			reason = "unknown directive (PHP " + phpini.PHPVersion + " table)"
		case phpini.SAPI(key) != "":
			reason = "directive of the " + phpini.SAPI(key) + " SAPI only"
		case !applies(l, mode, known):
			reason = "PHP_INI_SYSTEM directive: mod_php ignores it in php_value/php_flag"
			if l.kind.Admin() {
				reason = "directive without PHP_INI_SYSTEM: mod_php ignores php_admin_value for it in an access file"
			}
		}
		if reason != "" {
			res.Ignored = append(res.Ignored, IgnoredSetting{Key: key, Pos: l.pos, Reason: reason})
			continue
		}
		res.Settings = append(res.Settings, Setting{Key: key, Value: strings.Clone(l.value)})
		if res.origins == nil {
			res.origins = map[string]origin{}
		}
		res.origins[key] = origin{scope: settingScope(l), pos: l.pos}
		if l.htaccess && key == "open_basedir" {
			// Tightening is checked against the pool baseline by the
			// handler, which knows it.
			res.OpenBasedirFromAccess = true
		}
	}
	slices.SortFunc(res.Settings, func(a, b Setting) int { return strings.Compare(a.Key, b.Key) })
}

// applies reports whether mod_php's setting from l takes effect on a
// known directive with mask mode (modphp.Applies, or
// modphp.AppliesInAccessFile for a line of an access file).
func applies(l phpLine, mode phpini.Mode, known bool) bool {
	if l.htaccess {
		return modphp.AppliesInAccessFile(l.kind, mode, known)
	}
	return modphp.Applies(l.kind, mode, known)
}

// splitRoot returns the cleaned document root and the script directory
// relative to it, and whether the directory lies inside the root.
func splitRoot(docRoot, dir string) (root, rel string, ok bool) {
	if docRoot == "" || !path.IsAbs(docRoot) {
		return "", "", false
	}
	root = path.Clean(docRoot)
	dir = path.Clean(dir)
	switch {
	case dir == root:
		return root, ".", true
	case root == "/" && path.IsAbs(dir):
		return root, dir[1:], true
	case len(dir) > len(root) && dir[len(root)] == '/' && dir[:len(root)] == root:
		return root, dir[len(root)+1:], true
	}
	return root, "", false
}

// splitPath returns the components of a cleaned absolute path.
func splitPath(p string) []string {
	p = strings.Trim(path.Clean(p), "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// readAccess returns the parsed access file of dir (nil when there is
// none), from the cache when the file is unchanged.
//
// The cache is checked with a stat of the path, following symbolic links
// as httpd's open does (see accessopen.go): one system call per directory
// level. A file that is not regular is refused without being opened; one
// that changes between the stat and the open is opened without blocking
// and refused then.
func (r *Resolver) readAccess(dir string, deps *[]dep) (*accessFile, error) {
	for _, name := range r.AccessNames {
		abs := path.Join(dir, name)
		id, regular, err := statID(abs)
		switch {
		case err != nil && isMissing(err):
			*deps = append(*deps, dep{abs: abs, missing: true})
			if !r.cache.negative(abs) {
				r.cache.putNegative(abs)
			}
			continue
		case err != nil:
			return nil, accessIOError(abs, &fs.PathError{Op: "stat", Path: abs, Err: err})
		case !regular:
			return nil, accessIOError(abs, errNotRegular)
		}
		if af, ok := r.cache.getID(abs, id); ok {
			*deps = append(*deps, dep{abs: abs, id: id})
			return af, nil
		}
		data, id, err := readAccessBytes(abs)
		if err != nil {
			if isMissing(err) {
				// Removed since the stat: as absent, not cached.
				*deps = append(*deps, dep{abs: abs, missing: true})
				continue
			}
			return nil, accessIOError(abs, err)
		}
		var af *accessFile
		if len(data) > maxAccessFileSize {
			af = &accessFile{path: abs, err: &AccessError{Pos: parser.Pos{File: abs}, Msg: "access file too large", Status: http.StatusInternalServerError}}
		} else {
			af = parseAccessFile(abs, data, r.env)
		}
		r.cache.put(abs, id, af)
		*deps = append(*deps, dep{abs: abs, id: id})
		return af, nil
	}
	return nil, nil
}

// fileID identifies one version of a file: a changed inode, size, mtime or
// ctime means it must be read again (no blind TTL).
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64
}

type cacheEntry struct {
	id      fileID
	missing bool
	af      *accessFile
	size    int64 // entryCost
}

func (e *cacheEntry) cost() int64 { return e.size }

// costed is a cache entry that knows its estimated memory.
type costed interface{ cost() int64 }

// evict makes room for one entry of cost add in m (whose entries cost
// *bytes together): when the entry would exceed maxEntries or maxBytes,
// entries are dropped in Go's map order, which is unspecified and in
// practice random, until the cache is at three quarters of its bounds, so
// that eviction does not run again on the next insert. It returns the
// number of entries dropped. An entry is just a re-read away: the bounds
// cost speed, never correctness.
func evict[V costed](m map[string]V, bytes *int64, add int64, maxEntries int, maxBytes int64) int64 {
	if len(m)+1 <= maxEntries && *bytes+add <= maxBytes {
		return 0
	}
	wantN, wantB := maxEntries*3/4, maxBytes*3/4-add
	var n int64
	for k, v := range m {
		if len(m) <= wantN && *bytes <= wantB {
			break
		}
		*bytes -= v.cost()
		delete(m, k)
		n++
	}
	return n
}

// store puts v under key in the bounded cache m, replacing any entry
// there, evicting first if the bounds require it, and keeps *bytes the sum
// of the entries' costs. It returns the number of entries evicted.
func store[V costed](m map[string]V, bytes *int64, key string, v V, maxEntries int, maxBytes int64) int64 {
	if old, ok := m[key]; ok {
		*bytes -= old.cost()
		delete(m, key)
	}
	n := evict(m, bytes, v.cost(), maxEntries, maxBytes)
	m[key] = v
	*bytes += v.cost()
	return n
}

// accessCache maps access file paths to their parsed content, or to their
// absence (negative entries), within a bound on entries and on estimated
// memory.
type accessCache struct {
	mu           sync.RWMutex
	m            map[string]*cacheEntry
	bytes        int64 // sum of the entries' costs
	evictions    int64
	hits, misses atomic.Int64

	maxEntries int
	maxBytes   int64
}

func (c *accessCache) lookup(p string) *cacheEntry {
	c.mu.RLock()
	e := c.m[p]
	c.mu.RUnlock()
	return e
}

func (c *accessCache) getID(p string, id fileID) (*accessFile, bool) {
	if e := c.lookup(p); e != nil && !e.missing && e.id == id {
		c.hits.Add(1)
		return e.af, true
	}
	c.misses.Add(1)
	return nil, false
}

func (c *accessCache) negative(p string) bool {
	if e := c.lookup(p); e != nil && e.missing {
		c.hits.Add(1)
		return true
	}
	c.misses.Add(1)
	return false
}

func (c *accessCache) store(p string, e *cacheEntry) {
	c.mu.Lock()
	c.evictions += store(c.m, &c.bytes, p, e, c.maxEntries, c.maxBytes)
	c.mu.Unlock()
}

// put caches a parsed access file at its accessFileCost.
func (c *accessCache) put(p string, id fileID, af *accessFile) {
	c.store(p, &cacheEntry{id: id, af: af, size: accessFileCost(p, id.size, af)})
}

func (c *accessCache) putNegative(p string) {
	c.store(p, &cacheEntry{missing: true, size: entryOverhead + int64(len(p))})
}
