package facts

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// FPM is php-fpm's side of the server, read with internal/fpmconf: its
// configuration (php-fpm.conf, include= files, pools) and the php.ini and
// scan directory its pools start from. Rules that compare Apache with
// php-fpm (MPM20xx) look at it; without it they check Apache alone.
type FPM struct {
	// Path is the php-fpm.conf read (under the root, as opened).
	Path string
	// Config is the php-fpm configuration; never nil.
	Config *fpmconf.Config
	// INI is the php.ini beside php-fpm.conf with its conf.d, as php-fpm
	// reads it on Debian (/etc/php/V/fpm/php.ini); nil when there is none.
	INI *fpmconf.INI
}

// fpmConfigGlob is where Debian and Ubuntu keep php-fpm's configuration;
// the highest version wins when several are installed.
const fpmConfigGlob = "/etc/php/*/fpm/php-fpm.conf"

// otherFPMConfigs are tried after fpmConfigGlob: RHEL/Fedora, Alpine, and
// a php-fpm built from source with the default prefix.
var otherFPMConfigs = []string{"/etc/php-fpm.conf", "/etc/php82/php-fpm.conf", "/etc/php83/php-fpm.conf", "/usr/local/etc/php-fpm.conf"}

// FindFPMConfig returns php-fpm.conf under root (as opened, i.e. with the
// root prefix), or "" when there is none: /etc/php/*/fpm/php-fpm.conf with
// the highest version, else the usual places of other distributions.
func FindFPMConfig(root string) string {
	ms, _ := filepath.Glob(filepath.Join(root, fpmConfigGlob))
	slices.SortFunc(ms, func(a, b string) int {
		va := filepath.Base(filepath.Dir(filepath.Dir(a)))
		vb := filepath.Base(filepath.Dir(filepath.Dir(b)))
		return parser.CompareVersions(va, vb)
	})
	for i := len(ms) - 1; i >= 0; i-- {
		if st, err := os.Stat(ms[i]); err == nil && st.Mode().IsRegular() {
			return ms[i]
		}
	}
	for _, p := range otherFPMConfigs {
		p = filepath.Join(root, p)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// LoadFPM reads php-fpm's configuration at path (as opened: already under
// root) and the php.ini beside it (php.ini and conf.d/*.ini in the same
// directory, Debian's layout; php-fpm.d's RHEL layout has /etc/php.ini and
// /etc/php.d). Absolute include= patterns are resolved under root, like the
// Apache tree's paths. The error is only for a php-fpm.conf that cannot be
// read; problems inside the files are in Config.Diagnostics and
// INI.Diagnostics, reported as MPM0020.
func LoadFPM(root, path string) (*FPM, error) {
	f := &FPM{Path: path}
	dir := filepath.Dir(path)
	ini, scan := filepath.Join(dir, "php.ini"), filepath.Join(dir, "conf.d")
	if filepath.Base(dir) == "etc" && !exists(ini) {
		// RHEL: /etc/php-fpm.conf with /etc/php.ini and /etc/php.d.
		scan = filepath.Join(dir, "php.d")
	}
	if !exists(ini) {
		ini = ""
	}
	if !exists(scan) {
		scan = ""
	}
	if ini != "" || scan != "" {
		f.INI, _ = fpmconf.LoadINI(ini, scan)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading php-fpm configuration: %w", err)
	}
	load := path
	rooted := rootIncludes(root, src)
	if rooted != nil {
		tmp, err := os.CreateTemp("", "modphp-migrate-fpm-*.conf")
		if err != nil {
			return nil, fmt.Errorf("reading php-fpm configuration under %s: %w", root, err)
		}
		defer os.Remove(tmp.Name())
		_, werr := tmp.Write(rooted)
		if cerr := tmp.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("reading php-fpm configuration under %s: %w", root, werr)
		}
		load = tmp.Name()
	}
	cfg, err := fpmconf.LoadOptions(load, fpmconf.Options{INI: f.INI})
	if err != nil {
		return nil, fmt.Errorf("reading php-fpm configuration: %w", err)
	}
	if load != path {
		renameFPMFile(cfg, load, path)
	}
	f.Config = cfg
	return f, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// includeLine is an include= line of php-fpm.conf with an absolute pattern.
var includeLine = regexp.MustCompile(`(?m)^([ \t]*include[ \t]*=[ \t]*"?)(/)`)

// rootIncludes returns src with every absolute include= pattern put under
// root, or nil when there is nothing to change. php-fpm has no notion of a
// root; the Apache side is read under --root, so php-fpm's must be too, or
// a copied tree would pull in this machine's pools. Only the main file is
// rewritten (nested includes are rare); line numbers are kept.
func rootIncludes(root string, src []byte) []byte {
	if root == "" || !includeLine.Match(src) {
		return nil
	}
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	r := strings.TrimSuffix(filepath.ToSlash(root), "/")
	return includeLine.ReplaceAll(src, []byte("${1}"+escapeDollar(r)+"/"))
}

func escapeDollar(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// renameFPMFile replaces the temporary copy's name by the real file's in
// every position of cfg.
func renameFPMFile(cfg *fpmconf.Config, from, to string) {
	fix := func(p *parser.Pos) {
		if p.File == from {
			p.File = to
		}
	}
	for i, f := range cfg.Files {
		if f == from {
			cfg.Files[i] = to
		}
	}
	for k, s := range cfg.Global {
		fix(&s.Pos)
		cfg.Global[k] = s
	}
	for _, pl := range cfg.Pools {
		fix(&pl.Pos)
		for k, s := range pl.Settings {
			fix(&s.Pos)
			pl.Settings[k] = s
		}
		for k, s := range pl.Env {
			fix(&s.Pos)
			pl.Env[k] = s
		}
		for i := range pl.PHP {
			fix(&pl.PHP[i].Pos)
		}
	}
	for i := range cfg.Diagnostics {
		fix(&cfg.Diagnostics[i].Pos)
		cfg.Diagnostics[i].Message = strings.ReplaceAll(cfg.Diagnostics[i].Message, from, to)
	}
}
