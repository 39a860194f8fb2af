package shim

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
)

// DefaultConfigCheckInterval is how often, at most, the shim stats the
// files its configuration came from (--apache-config and what it
// includes, --fpm-config and its includes, php.ini and conf.d): an edit is
// applied by the first request after it, within this interval, without a
// SIGHUP. A check is one stat per file, made by a request only when the
// last one is older than this; an idle shim checks nothing.
const DefaultConfigCheckInterval = 2 * time.Second

// configWatch remembers the files of the configuration in force, with
// their identity (device, inode, size, mtime, ctime), and the directories
// that hold them, whose mtime changes when a file is added to a wildcard
// Include or conf.d.
type configWatch struct {
	interval atomic.Int64 // time.Duration; <= 0: never check
	next     atomic.Int64 // unix nanoseconds of the next check
	mu       sync.Mutex   // one check at a time; others go on

	smu   sync.Mutex // guards files and ids (SIGHUP reloads concurrently)
	files []string
	ids   []fileID
}

// stampFiles records the identity of every path (a missing one as the
// zero fileID) and of the directories that hold them.
func (w *configWatch) stampFiles(paths []string) {
	set := map[string]bool{}
	for _, p := range paths {
		if p == "" {
			continue
		}
		set[p] = true
		set[filepath.Dir(p)] = true
	}
	files := make([]string, 0, len(set))
	for p := range set {
		files = append(files, p)
	}
	slices.Sort(files)
	ids := make([]fileID, len(files))
	for i, p := range files {
		ids[i], _, _ = statID(p)
	}
	w.smu.Lock()
	w.files, w.ids = files, ids
	w.smu.Unlock()
}

// recorded returns the paths recorded.
func (w *configWatch) recorded() ([]string, []fileID) {
	w.smu.Lock()
	defer w.smu.Unlock()
	return w.files, w.ids
}

// changed returns the first recorded path whose identity changed, or "".
func (w *configWatch) changed() string {
	files, ids := w.recorded()
	for i, p := range files {
		if id, _, _ := statID(p); id != ids[i] {
			return p
		}
	}
	return ""
}

// due reports whether a check is due at now, claiming it: concurrent
// requests see the next one scheduled.
func (w *configWatch) due(now time.Time) bool {
	iv := time.Duration(w.interval.Load())
	if iv <= 0 {
		return false
	}
	n := w.next.Load()
	if now.UnixNano() < n {
		return false
	}
	return w.next.CompareAndSwap(n, now.Add(iv).UnixNano())
}

// checkConfig reloads the configuration when one of its files changed
// since it was loaded, as SIGHUP does; the request that finds the change
// waits for the reload and is served with its result, other requests go
// on with the configuration in force. A configuration that fails to load
// leaves the previous one in force (Reload logs why) and is not tried
// again until a file changes again.
func (s *Server) checkConfig(ctx context.Context, now time.Time) {
	w := &s.watch
	if !w.due(now) || !w.mu.TryLock() {
		return
	}
	defer w.mu.Unlock()
	p := w.changed()
	if p == "" {
		return
	}
	s.log.Info("configuration file changed: reloading", "path", p)
	if err := s.Reload(ctx); err != nil {
		// Take the files as they are now, so that the same broken
		// state is not loaded again on every check.
		files, _ := w.recorded()
		w.stampFiles(files)
	}
}

// configFiles lists the files the configuration in st was read from.
func (s *Server) configFiles(st *state) []string {
	var files []string
	if sc := st.resolver.server; sc != nil {
		files = append(files, s.cfg.ApacheConfig)
		for _, f := range sc.cfg.Files {
			files = append(files, f.Path)
		}
	}
	if s.cfg.FPMConfig != "" {
		files = append(files, s.cfg.FPMConfig)
	}
	if fs, ok := s.cfg.Source.(interface {
		ConfigFiles(fpmConfig, phpINI string) []string
	}); ok {
		files = append(files, fs.ConfigFiles(s.cfg.FPMConfig, s.cfg.PHPINI)...)
	}
	return files
}

// ConfigFiles lists the files LoadPools reads: the php-fpm configuration
// with its includes, php.ini and the INI scan directory's files.
func (s *FPMPoolSource) ConfigFiles(fpmConfig, phpINI string) []string {
	files := []string{fpmConfig}
	if phpINI == "" {
		phpINI = defaultPHPINI(fpmConfig)
	}
	scanDir := s.ScanDir
	if scanDir == "" {
		scanDir = os.Getenv("PHP_INI_SCAN_DIR")
	}
	if scanDir == "" && phpINI != "" {
		scanDir = filepath.Join(filepath.Dir(phpINI), "conf.d")
	}
	opt := fpmconf.Options{Prefix: s.Prefix, Getenv: os.LookupEnv}
	if ini, err := fpmconf.LoadINIOptions(phpINI, scanDir, opt); err == nil {
		files = append(files, ini.Files...)
		opt.INI = ini
	}
	if phpINI != "" {
		files = append(files, phpINI)
	}
	if scanDir != "" {
		// The directory itself: a file added there changes its mtime.
		files = append(files, filepath.Join(scanDir, "."))
	}
	if cfg, err := fpmconf.LoadOptions(fpmConfig, opt); err == nil {
		files = append(files, cfg.Files...)
	}
	return files
}
