package parser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/modphp-migrate/modphp-migrate/internal/rootfs"
)

// DefaultVersion is the httpd version <IfVersion> is evaluated against
// unless LoadOptions.Version says otherwise (Debian 12's apache2 package).
const DefaultVersion = "2.4.71"

// LoadOptions tune how a tree is read.
type LoadOptions struct {
	// Root is a directory under which every absolute path of the
	// configuration is resolved, like a chroot ("" = the real filesystem):
	// symbolic links are followed inside it, an absolute target from Root
	// itself (see Config.FS). File.Path is the path as opened (under Root,
	// links not resolved); paths that are httpd's own (DocumentRoot,
	// AccessFile.Dir, ServerRoot) are not prefixed — use Config.HostPath
	// to name them on disk, and Config.FS to read them.
	Root string
	// Defines are -D names (<IfDefine>; ${NAME} stays undefined).
	Defines []string
	// Version is the httpd version for <IfVersion> (default DefaultVersion).
	Version string
	// AccessFileNames replaces the AccessFileName list when not empty.
	AccessFileNames []string
	// NoAccessFiles skips the discovery of .htaccess files.
	NoAccessFiles bool
	// Progress, when set, counts what the load has done so far, for a
	// progress display.
	Progress *Progress
	// Env supplies variables for ${VAR} after Define (nil = the process
	// environment). Debian's envvars beside apache2.conf is read first.
	Env func(string) (string, bool)
	// MaxFiles bounds the files one view reads, configuration and access
	// files, a file counting each time an Include reads it (0 =
	// DefaultMaxFiles); MaxBytes bounds their total size (0 =
	// DefaultMaxBytes). Past either, loading stops with a "limit"
	// diagnostic at the Include that crossed it.
	MaxFiles int
	MaxBytes int64
	// MaxWalk bounds the directory entries looked at (0 =
	// DefaultMaxWalk): by the Includes of one view, each directory listing
	// counting in full each time (past it, loading stops as for MaxFiles),
	// and by the search for access files under all document roots
	// together (past it, the search stops with a "limit" warning at the
	// root it was walking).
	MaxWalk int64
}

// Progress counts the work of a load as it goes; every field may be read
// while the load runs.
type Progress struct {
	// Files is the number of configuration and access files read.
	Files atomic.Int64
	// Dirs is the number of directories searched for access files.
	Dirs atomic.Int64
}

// Result holds the same tree loaded in both views.
type Result struct {
	Today *Config
	After *Config
}

// ErrNoConfig is returned when a directory holds no apache2.conf,
// httpd.conf or conf/httpd.conf.
var ErrNoConfig = errors.New("no apache2.conf, httpd.conf or conf/httpd.conf found")

// mainNames are the files a server directory is searched for, in order.
var mainNames = []string{"apache2.conf", "httpd.conf", filepath.Join("conf", "httpd.conf")}

// FindMain returns the main configuration file of a directory, or path
// itself when it is a file.
func FindMain(path string) (string, error) { return findMain(nil, path) }

// FindMainUnder is FindMain for a path under a root (LoadOptions.Root):
// symbolic links are followed inside it.
func FindMainUnder(root, path string) (string, error) { return findMain(rootfs.New(root), path) }

// findMain is FindMain inside a root.
func findMain(root *rootfs.Root, path string) (string, error) {
	st, err := root.Stat(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if !st.IsDir() {
		return path, nil
	}
	for _, n := range mainNames {
		p := filepath.Join(path, n)
		if st, err := root.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", path, ErrNoConfig)
}

// Load reads a server tree from a directory (finding its main file) or a
// main configuration file, in both views. Problems in the configuration
// become Diagnostics; the error is only for a path that cannot be used.
func Load(path string, opt LoadOptions) (*Result, error) {
	return LoadContext(context.Background(), path, opt)
}

// LoadContext is Load, given up when ctx is done: reading, Include
// expansion and the .htaccess discovery stop at the next file or
// directory, and the error is ctx's.
func LoadContext(ctx context.Context, path string, opt LoadOptions) (*Result, error) {
	cache := newParseCache(opt)
	cache.ctx, cache.progress = ctx, opt.Progress
	cache.holders = 2
	// The views share parsed files and directory listings and are
	// evaluated concurrently.
	var res Result
	var errs [2]error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); res.Today, errs[0] = loadView(path, Today, opt, cache) }()
	go func() { defer wg.Done(); res.After, errs[1] = loadView(path, AfterModPHP, opt, cache) }()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return &res, nil
}

// LoadView reads a server tree in one view only (what dump needs).
func LoadView(path string, view View, opt LoadOptions) (*Config, error) {
	return loadView(path, view, opt, newParseCache(opt))
}

func loadView(path string, view View, opt LoadOptions, cache *parseCache) (*Config, error) {
	main, err := findMain(cache.root, path)
	if err != nil {
		return nil, err
	}
	l := newLoader(view, opt, cache)
	l.cfg.MainFile = main
	l.cfg.ServerRoot = l.defaultServerRoot(main)
	exported := l.readEnvvars(filepath.Join(filepath.Dir(main), "envvars"))
	l.cfg.Main = l.includeFile(main, nil)
	l.cfg.Vars, l.cfg.Envvars = l.vars, map[string]string{}
	for name := range exported {
		if v, ok := l.envvars[name]; ok {
			l.cfg.Envvars[name] = v
		}
	}
	l.finish()
	if err := l.cache.ctx.Err(); err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	return l.cfg, nil
}

// defaultServerRoot is the directory of the main file (its parent for
// conf/httpd.conf), in httpd's terms.
func (l *loader) defaultServerRoot(main string) string {
	dir := filepath.Dir(main)
	if filepath.Base(dir) == "conf" && filepath.Base(main) == "httpd.conf" {
		dir = filepath.Dir(dir)
	}
	return l.httpdPath(dir)
}

// HostPath maps a path as httpd sees it to the path it is opened at
// (under Root, lexically: links are resolved when Config.FS reads it).
func (c *Config) HostPath(p string) string { return c.FS().Opened(p) }

// FS reads the server's files as httpd would: under Root, following
// symbolic links inside it (nil: this machine's filesystem, as is). Its
// methods take paths as HostPath gives them.
func (c *Config) FS() *rootfs.Root {
	if c.fs == nil && c.Root != "" { // a Config not made by a load
		return rootfs.New(c.Root)
	}
	return c.fs
}

// httpdPath maps a host path back to httpd's view (strips Root).
func (l *loader) httpdPath(host string) string {
	p, _ := l.cfg.fs.Server(host)
	return p
}

// parseCache parses each file once per Load. Evaluation writes into nodes,
// so each of the first holders users of a file (one per view) gets nodes of
// its own: the first ones a copy, the last the parsed nodes themselves. A
// file read more often (included again) is parsed a second time, and every
// further user gets a copy of that spare.
type parseCache struct {
	ctx      context.Context // the load gives up when it is done
	root     *rootfs.Root    // LoadOptions.Root (nil: the real filesystem)
	progress *Progress       // nil: not counted
	mu       sync.Mutex
	files    map[string]*parsed
	holders  int                     // users that share one parse (1 = no copies)
	lists    map[string]*treeListing // directory listings for access files
	stats    map[string]statResult   // Include targets looked at
	dirs     map[string]dirResult    // directories Includes listed
	maxBytes int64                   // no file larger is read (LoadOptions.MaxBytes)
	walkLeft atomic.Int64            // directory entries the listings may still read
	nodes    nodeArena               // the nodes of every file parsed or copied
	listed   *dirListings            // subdirectories of the directories lists read (kept by the views)
}

type parsed struct {
	once    sync.Once
	file    *File
	diags   []Diagnostic
	err     error
	handed  int            // times get handed out nodes
	copying sync.WaitGroup // copies of file still being made

	spareOnce  sync.Once // parses the spare
	spare      *File     // never handed out, only copied
	spareDiags []Diagnostic
	spareErr   error
}

func newParseCache(opt LoadOptions) *parseCache {
	c := &parseCache{ctx: context.Background(), root: rootfs.New(opt.Root), files: map[string]*parsed{}, holders: 1, maxBytes: opt.maxBytes(), listed: &dirListings{}}
	c.walkLeft.Store(opt.maxWalk())
	return c
}

func (c *parseCache) entry(path string) *parsed {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.files[path]
	if p == nil {
		p = &parsed{}
		c.files[path] = p
	}
	return p
}

// statResult is what expandPlain needs of an Include target.
type statResult struct {
	dir bool
	err error
}

// isDir stats an Include target once per load: a file included again and
// again (each view reads the tree; a tree may include a file many times)
// costs one system call.
func (c *parseCache) isDir(path string) (bool, error) {
	c.mu.Lock()
	r, ok := c.stats[path]
	c.mu.Unlock()
	if ok {
		return r.dir, r.err
	}
	st, err := c.root.Stat(path)
	r = statResult{dir: err == nil && st.IsDir(), err: err}
	c.mu.Lock()
	if c.stats == nil {
		c.stats = map[string]statResult{}
	}
	c.stats[path] = r
	c.mu.Unlock()
	return r.dir, r.err
}

// dirResult is a directory an Include listed.
type dirResult struct {
	names []string
	err   error
}

// dirNames lists a directory for Includes once per load, sorted.
func (c *parseCache) dirNames(dir string) ([]string, error) {
	c.mu.Lock()
	r, ok := c.dirs[dir]
	c.mu.Unlock()
	if ok {
		return r.names, r.err
	}
	ents, err := readDir(c.root, dir)
	r.err = err
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dirs == nil {
		c.dirs = map[string]dirResult{}
	}
	if c.stats == nil {
		c.stats = map[string]statResult{}
	}
	for _, e := range ents {
		r.names = append(r.names, e.Name())
		// The entry's type is what a stat would say, but for a symbolic
		// link: a wildcard matching 10,000 site files costs no stat each.
		if e.Type()&fs.ModeSymlink == 0 {
			c.stats[filepath.Join(dir, e.Name())] = statResult{dir: e.IsDir()}
		}
	}
	c.dirs[dir] = r
	return r.names, r.err
}

// parse parses path once.
func (c *parseCache) parse(path string, access bool) *parsed {
	p := c.entry(path)
	p.once.Do(func() {
		var data []byte
		data, p.err = readRegular(c.root, path, c.maxBytes)
		if c.progress != nil {
			c.progress.Files.Add(1)
		}
		if p.err == nil {
			p.file, p.diags = parse(path, data, access, &c.nodes)
		}
	})
	return p
}

// get parses path (once) and returns nodes nobody else holds.
func (c *parseCache) get(path string, access bool) (*File, []Diagnostic, error) {
	p := c.parse(path, access)
	if p.err != nil {
		return nil, nil, p.err
	}
	c.mu.Lock()
	k := p.handed
	p.handed++
	if k < c.holders-1 {
		p.copying.Add(1) // before the last holder can start writing
	}
	c.mu.Unlock()
	switch {
	case k < c.holders-1:
		defer p.copying.Done()
		return cloneFile(p.file, &c.nodes), p.diags, nil
	case k == c.holders-1:
		p.copying.Wait()
		return p.file, p.diags, nil
	}
	p.spareOnce.Do(func() {
		var data []byte
		if data, p.spareErr = readRegular(c.root, path, c.maxBytes); p.spareErr == nil {
			p.spare, p.spareDiags = parse(path, data, access, &c.nodes)
		}
	})
	if p.spareErr != nil {
		return nil, nil, p.spareErr
	}
	return cloneFile(p.spare, &c.nodes), p.spareDiags, nil
}

// prefetch starts parsing files in the background, ahead of their
// sequential evaluation: the evaluator blocks only on a file a worker is
// still parsing, and parses by itself any file no worker has reached.
func (c *parseCache) prefetch(paths []string) {
	if len(paths) < 8 {
		return
	}
	var next atomic.Int64
	for i := 0; i < runtime.GOMAXPROCS(0); i++ {
		go func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= len(paths) || c.ctx.Err() != nil {
					return
				}
				c.parse(paths[k], false) // errors are reported when the file is evaluated
			}
		}()
	}
}

// errNotRegular is httpd's refusal of anything but a regular file.
var errNotRegular = errors.New("not a regular file")

// readRegular reads a regular file of at most max bytes (inside root).
func readRegular(root *rootfs.Root, path string, max int64) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO must not wait for a writer; the type check
	// below then refuses it. Regular files ignore the flag.
	f, err := root.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() && path != os.DevNull {
		return nil, &fs.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	if st.Size() > max {
		return nil, &tooLargeError{size: st.Size(), max: max}
	}
	data := make([]byte, 0, st.Size()+1)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if int64(len(data)) > max { // grown while being read
			return nil, &tooLargeError{size: int64(len(data)), max: max}
		}
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
}

func cloneFile(f *File, arena *nodeArena) *File {
	c := &File{Path: f.Path, BOM: f.BOM, size: f.size}
	c.Nodes = cloneNodes(f.Nodes, nil, arena)
	return c
}

func cloneNodes(ns []*Node, parent *Node, arena *nodeArena) []*Node {
	if ns == nil {
		return nil
	}
	out := make([]*Node, len(ns))
	block := arena.alloc(len(ns))
	for i, n := range ns {
		c := &block[i]
		*c = *n // the tail stays shared: parsed, it holds only the closing tag (see addIncluded)
		c.Parent = parent
		c.Children = cloneNodes(n.Children, c, arena)
		out[i] = c
	}
	return out
}

// LoadSingle reads one file on its own, as a pre-commit hook sees it: an
// access file (access == true) or a fragment of server configuration. With
// no server around it, <IfModule> is true for every module except PHP
// modules, which are PHP 8's mod_php today (only mod_php.c and php_module
// match) and absent after mod_php. Include is not followed; the envvars of
// the server tree a fragment lies in is read (treeEnvvars).
func LoadSingle(path string, access bool, opt LoadOptions) (*Result, error) {
	return loadSingle(path, access, opt, newParseCache(opt))
}

// treeEnvvars returns Debian's envvars of the server tree a configuration
// fragment lies in (sites-enabled/x.conf of /etc/apache2): the envvars
// beside the main file found in the fragment's directory or one of its
// ancestors, "" when there is none. The fragment's ${APACHE_LOG_DIR} and
// the like are then known as apache2ctl would define them.
func treeEnvvars(fragment string) string {
	dir, err := filepath.Abs(filepath.Dir(fragment))
	if err != nil {
		return ""
	}
	for {
		for _, n := range mainNames[:2] {
			if st, err := os.Stat(filepath.Join(dir, n)); err == nil && st.Mode().IsRegular() {
				return filepath.Join(dir, "envvars")
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// LoadSingleBytes is LoadSingle for content that was not read from path,
// such as an editor's buffer given on standard input; path names it in
// positions and decides nothing else.
func LoadSingleBytes(path string, data []byte, access bool, opt LoadOptions) (*Result, error) {
	cache := newParseCache(opt)
	cache.holders = 2 // both views get nodes of their own: there is no file to read again
	p := cache.entry(path)
	p.once.Do(func() { p.file, p.diags = parse(path, data, access, &cache.nodes) })
	return loadSingle(path, access, opt, cache)
}

func loadSingle(path string, access bool, opt LoadOptions, cache *parseCache) (*Result, error) {
	var r Result
	for _, view := range []View{Today, AfterModPHP} {
		l := newLoader(view, opt, cache)
		l.assumeModules = true
		l.cfg.MainFile = path
		l.cfg.ServerRoot = filepath.Dir(path)
		f, diags, err := cache.get(path, access)
		if err != nil {
			if !l.tooLarge(Pos{File: path}, path, err) {
				return nil, fmt.Errorf("reading %s: %w", path, err)
			}
			f = &File{Path: path}
		}
		l.cfg.Diagnostics = append(l.cfg.Diagnostics, diags...)
		l.cfg.Files = []*File{f}
		if access {
			l.cfg.AccessNames = []string{filepath.Base(path)}
			l.evalAccess(f)
			l.cfg.Access = []*AccessFile{{File: f, Dir: filepath.Dir(path)}}
		} else {
			if env := treeEnvvars(path); env != "" {
				l.readEnvvars(env)
			}
			l.cfg.Main = f
			l.chain = []string{path}
			l.evalNodes(f.Nodes)
			l.checkUnclosed(f.Nodes, false)
			l.opt.NoAccessFiles = true
			l.finish()
		}
		if view == Today {
			r.Today = l.cfg
		} else {
			r.After = l.cfg
		}
	}
	return &r, nil
}
