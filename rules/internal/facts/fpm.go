package facts

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
	"github.com/modphp-migrate/modphp-migrate/internal/rootfs"
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
// Links are followed inside root.
func FindFPMConfig(root string) string {
	r := rootfs.New(root)
	ms, _ := r.Glob(filepath.Join(root, fpmConfigGlob))
	slices.SortFunc(ms, func(a, b string) int {
		va := filepath.Base(filepath.Dir(filepath.Dir(a)))
		vb := filepath.Base(filepath.Dir(filepath.Dir(b)))
		return parser.CompareVersions(va, vb)
	})
	for i := len(ms) - 1; i >= 0; i-- {
		if st, err := r.Stat(ms[i]); err == nil && st.Mode().IsRegular() {
			return ms[i]
		}
	}
	for _, p := range otherFPMConfigs {
		p = filepath.Join(root, p)
		if st, err := r.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// LoadFPM reads php-fpm's configuration at path (as opened: already under
// root) and the php.ini beside it (php.ini and conf.d/*.ini in the same
// directory, Debian's layout; php-fpm.d's RHEL layout has /etc/php.ini and
// /etc/php.d). The configuration's absolute paths (include= patterns and
// the like) are looked up under root and links followed inside it, like
// the Apache tree's (fpmconf.Options.Root). The error is only for a
// php-fpm.conf that cannot be read; problems inside the files are in
// Config.Diagnostics and INI.Diagnostics, reported as MPM0020.
func LoadFPM(root, path string) (*FPM, error) {
	r := rootfs.New(root)
	exists := func(p string) bool {
		_, err := r.Stat(p)
		return err == nil
	}
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
		f.INI, _ = fpmconf.LoadINIOptions(ini, scan, fpmconf.Options{Root: r})
	}
	cfg, err := fpmconf.LoadOptions(path, fpmconf.Options{INI: f.INI, Root: r})
	if err != nil {
		return nil, fmt.Errorf("reading php-fpm configuration: %w", err)
	}
	f.Config = cfg
	return f, nil
}
