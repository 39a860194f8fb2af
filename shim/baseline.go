package shim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
	"github.com/modphp-migrate/modphp-migrate/internal/phpini"
)

// Pool is what the shim needs to know about one php-fpm pool.
type Pool struct {
	// Name is the pool's [name] in the php-fpm configuration.
	Name string
	// Listen is the pool's listen value as written.
	Listen string
	// MaxChildren is pm.max_children: the most connections the shim keeps
	// open to the pool, since each kept connection pins one worker
	// (docs/behaviour.md#b-reuse-pins, #b-fpm-connections).
	MaxChildren int
	// Baseline is the value each INI directive has in a fresh worker,
	// before any PHP_VALUE: php.ini, its scan directory, then the pool's
	// php_value/php_flag/php_admin_value/php_admin_flag. A directive that
	// is missing is unknown and is never sent.
	Baseline map[string]string
	// Locked are the directives the pool sets with php_admin_value or
	// php_admin_flag: the admin's word, which a .htaccess value must not
	// override (mod_php: an outer php_admin_value beats php_value).
	Locked map[string]bool
	// TimeZones are the date.timezone values PHP accepts, in lower case
	// (PHP compares them so); nil when unknown.
	TimeZones map[string]bool
}

// PoolSource loads the pools of a php-fpm configuration with their
// baselines; FPMPoolSource is the real one, tests use fakes.
type PoolSource interface {
	LoadPools(ctx context.Context, fpmConfig, phpINI string) ([]*Pool, error)
}

// probeTimeout bounds one run of the PHP binary that reports the INI
// defaults; it starts, parses php.ini and conf.d and prints JSON in tens of
// milliseconds, so seconds mean something is wrong.
const probeTimeout = 20 * time.Second

// FPMPoolSource reads pools and their INI baselines the way php-fpm reads
// them: php-fpm.conf (include=, [pool] sections, pm.max_children,
// php_value[…] and php_admin_value[…]) and php.ini with its scan directory
// through internal/fpmconf, which uses PHP's INI grammar. Directives that
// no file sets keep PHP's built-in defaults, which only PHP knows: the PHP
// command-line binary of the same version reports them with ini_get_all()
// after reading the same php.ini and scan directory (so extensions loaded
// there report theirs too).
type FPMPoolSource struct {
	// PHP is the command-line binary; empty means php8.2 or php from PATH.
	// Without one, only directives set in the files have a known baseline.
	PHP string
	// ScanDir is the INI scan directory (conf.d); empty means
	// PHP_INI_SCAN_DIR or the conf.d beside php.ini.
	ScanDir string
	// Prefix is php-fpm's -p (relative include= and listen paths); empty
	// means fpmconf.DefaultPrefix.
	Prefix string
	// Warn receives problems that do not stop loading (nil: dropped).
	Warn func(msg string, args ...any)
}

// cliOverrides are the directives the command-line SAPI forces after php.ini
// (php-src sapi/cli/php_cli.c HARDCODED_INI and INI_DEFAULT), so the CLI's
// ini_get_all() does not show php-fpm's value. Unless a file sets them, the
// baseline is PHP's built-in default (main/main.c).
var cliOverrides = map[string]string{
	"display_errors":     "1",
	"html_errors":        "1",
	"implicit_flush":     "0",
	"max_execution_time": "30",
	"max_input_time":     "-1",
	"output_buffering":   "0",
	"register_argc_argv": "1",
}

// probeMarker separates PHP's own output (startup warnings go to stdout
// with display_errors) from the probe's JSON.
const probeMarker = "@@modphp-migrate-baseline@@\n"

// probeScript prints ini_get_all() after the marker, and on the next line
// the time zone identifiers date.timezone accepts.
const probeScript = `$out = [];
foreach (ini_get_all(null, false) as $k => $v) { $out[$k] = $v === null ? "" : (string)$v; }
echo "\n@@modphp-migrate-baseline@@\n", json_encode($out, JSON_FORCE_OBJECT), "\n";
echo json_encode(array_map('strtolower', timezone_identifiers_list(DateTimeZone::ALL_WITH_BC)));`

// LoadPools implements PoolSource.
func (s *FPMPoolSource) LoadPools(ctx context.Context, fpmConfig, phpINI string) ([]*Pool, error) {
	warn := s.Warn
	if warn == nil {
		warn = func(string, ...any) {}
	}
	if phpINI == "" {
		phpINI = defaultPHPINI(fpmConfig)
	}
	scanDir := s.ScanDir
	if scanDir == "" {
		scanDir = os.Getenv("PHP_INI_SCAN_DIR")
	}
	if scanDir == "" && phpINI != "" {
		if d := filepath.Join(filepath.Dir(phpINI), "conf.d"); isDir(d) {
			scanDir = d
		}
	}
	opt := fpmconf.Options{Prefix: s.Prefix, Getenv: os.LookupEnv}
	ini, err := fpmconf.LoadINIOptions(phpINI, scanDir, opt)
	if err != nil {
		return nil, fmt.Errorf("reading php.ini: %w", err)
	}
	for _, d := range ini.Diagnostics {
		warn("php.ini problem", "where", d.Pos.String(), "problem", d.Message)
	}
	opt.INI = ini
	cfg, err := fpmconf.LoadOptions(fpmConfig, opt)
	if err != nil {
		return nil, fmt.Errorf("reading php-fpm config: %w", err)
	}
	for _, d := range cfg.Diagnostics {
		if d.Severity == fpmconf.SeverityError {
			return nil, fmt.Errorf("php-fpm would refuse its configuration: %s", d)
		}
		warn("php-fpm config problem", "where", d.Pos.String(), "problem", d.Message)
	}
	defaults, zones, err := s.phpDefaults(ctx, phpINI, scanDir)
	if err != nil {
		warn("PHP's built-in INI defaults are unknown; only directives set in php.ini, conf.d or the pool can be reset", "err", err)
	}
	var pools []*Pool
	for _, fp := range cfg.Pools {
		p := &Pool{Name: fp.Name, Listen: fp.Listen, MaxChildren: fp.MaxChildren, Baseline: map[string]string{}, Locked: map[string]bool{}, TimeZones: zones}
		for k, v := range defaults {
			if _, cli := cliOverrides[k]; !cli {
				p.Baseline[k] = v
			}
		}
		for k, def := range cliOverrides {
			if _, known := phpini.Lookup(k); known {
				p.Baseline[k] = def
			}
		}
		maps.Copy(p.Baseline, fpmconf.Baseline(ini, fp))
		for k, v := range fp.Values() {
			if v.Admin {
				p.Locked[k] = true
			}
		}
		pools = append(pools, p)
	}
	return pools, nil
}

// ErrNoPHP means no PHP command-line binary was found to learn the INI
// defaults from.
var ErrNoPHP = errors.New("no PHP command-line binary found (set --php)")

// phpDefaults asks the PHP binary for ini_get_all() after reading phpINI
// and scanDir, and for the time zones it knows.
func (s *FPMPoolSource) phpDefaults(ctx context.Context, phpINI, scanDir string) (map[string]string, map[string]bool, error) {
	bin := s.PHP
	if bin == "" {
		v := phpini.PHPVersion
		if i := strings.LastIndexByte(v, '.'); i > 0 {
			v = v[:i]
		}
		for _, c := range []string{"php" + v, "php"} {
			if p, err := exec.LookPath(c); err == nil {
				bin = p
				break
			}
		}
		if bin == "" {
			return nil, nil, ErrNoPHP
		}
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	args := []string{"-n"}
	if phpINI != "" {
		args = []string{"-c", phpINI}
	}
	args = append(args, "-r", probeScript)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "PHP_INI_SCAN_DIR="+scanDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, nil, fmt.Errorf("running %s for the INI defaults: %w: %s", bin, err, strings.TrimSpace(stderr.String()))
	}
	if i := bytes.LastIndex(b, []byte(probeMarker)); i >= 0 {
		b = b[i+len(probeMarker):]
	}
	iniJSON, zonesJSON, _ := bytes.Cut(b, []byte("\n"))
	var out map[string]string
	if err := json.Unmarshal(iniJSON, &out); err != nil {
		return nil, nil, fmt.Errorf("reading %s's INI defaults: %w", bin, err)
	}
	var list []string
	if err := json.Unmarshal(zonesJSON, &list); err != nil {
		return nil, nil, fmt.Errorf("reading %s's time zones: %w", bin, err)
	}
	zones := make(map[string]bool, len(list))
	for _, z := range list {
		zones[z] = true
	}
	return out, zones, nil
}

// defaultPHPINI is php.ini beside the php-fpm configuration's directory
// (Debian: /etc/php/8.2/fpm/php-fpm.conf → /etc/php/8.2/fpm/php.ini), else
// the php.ini Debian's php-fpm of the table's PHP version reads by default.
func defaultPHPINI(fpmConfig string) string {
	v := phpini.PHPVersion
	if i := strings.LastIndexByte(v, '.'); i > 0 {
		v = v[:i]
	}
	for _, p := range []string{filepath.Join(filepath.Dir(fpmConfig), "php.ini"), "/etc/php/" + v + "/fpm/php.ini"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// FindPool returns the pool whose listen value is addr (unix:/path or
// host:port); a port-only or wildcard listen matches any host with that
// port.
func FindPool(pools []*Pool, addr Addr) (*Pool, error) {
	for _, p := range pools {
		if listenMatches(p.Listen, addr) {
			return p, nil
		}
	}
	return nil, fmt.Errorf("no pool in the php-fpm config listens on %s", addr)
}

func listenMatches(listen string, a Addr) bool {
	if a.Network == "unix" {
		return filepath.Clean(listen) == filepath.Clean(a.Address)
	}
	if strings.HasPrefix(listen, "/") {
		return false
	}
	_, aport, err := net.SplitHostPort(a.Address)
	if err != nil {
		return false
	}
	if _, err := strconv.Atoi(listen); err == nil {
		return listen == aport
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil || port != aport {
		return false
	}
	ahost, _, _ := net.SplitHostPort(a.Address)
	switch host {
	case "", "0.0.0.0", "::", "*":
		return true
	}
	return host == ahost || (host == "localhost" && ahost == "127.0.0.1") || (ahost == "localhost" && host == "127.0.0.1")
}

// Addr is a listen or dial address: unix:/path or host:port.
type Addr struct {
	Network string // "unix" or "tcp"
	Address string // socket path or host:port
}

// String returns the address as written on the command line.
func (a Addr) String() string {
	if a.Network == "unix" {
		return "unix:" + a.Address
	}
	return a.Address
}

// ParseAddr reads unix:/path or host:port.
func ParseAddr(s string) (Addr, error) {
	if p, ok := strings.CutPrefix(s, "unix:"); ok {
		if !filepath.IsAbs(p) {
			return Addr{}, fmt.Errorf("address %q: the socket path must be absolute", s)
		}
		return Addr{Network: "unix", Address: filepath.Clean(p)}, nil
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		return Addr{}, fmt.Errorf("address %q: want unix:/path or host:port: %w", s, err)
	}
	return Addr{Network: "tcp", Address: s}, nil
}
