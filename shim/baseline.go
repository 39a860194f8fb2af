package shim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

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
	// (FACTS Part A §6b, Part C §5).
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
}

// PoolSource loads the pools of a php-fpm configuration with their
// baselines. internal/fpmconf will provide one from php-fpm's own files;
// CLIPoolSource asks the PHP binary.
type PoolSource interface {
	LoadPools(ctx context.Context, fpmConfig, phpINI string) ([]*Pool, error)
}

// probeTimeout bounds one run of the PHP binary that reports the INI
// baseline; it starts, parses php.ini and conf.d and prints JSON in tens of
// milliseconds, so seconds mean something is wrong.
const probeTimeout = 20 * time.Second

// CLIPoolSource reads pools from php-fpm.conf (and its include= files) and
// learns their INI baseline from PHP itself: the PHP command-line binary of
// the same version reads the same php.ini and scan directory with PHP's own
// INI parser and reports ini_get_all(), and parses the pools' php_value
// lines with parse_ini_string(), so On/Off, quotes and E_* constants mean
// exactly what they mean to php-fpm.
type CLIPoolSource struct {
	// PHP is the command-line binary; empty means php8.2 or php from PATH.
	PHP string
	// ScanDir is the INI scan directory (conf.d); empty means PHP_INI_SCAN_DIR
	// or the conf.d beside php.ini.
	ScanDir string
}

// cliOverrides are the directives the command-line SAPI forces after php.ini
// (php-src sapi/cli/php_cli.c HARDCODED_INI and INI_DEFAULT), so the CLI's
// ini_get_all() does not show php-fpm's value. For them the baseline is the
// value from the INI files, else PHP's built-in default (main/main.c).
var cliOverrides = map[string]string{
	"display_errors":     "1",
	"html_errors":        "1",
	"implicit_flush":     "0",
	"max_execution_time": "30",
	"max_input_time":     "-1",
	"output_buffering":   "0",
	"register_argc_argv": "1",
}

// probeMarker separates PHP's own output from the probe's JSON.
const probeMarker = "@@modphp-migrate-baseline@@\n"

// probeScript runs in the PHP binary. It reads a JSON request on stdin:
// {"files": [ini files in load order], "pools": {pool: "k = raw\n..."}}.
const probeScript = `$in = json_decode(stream_get_contents(STDIN), true);
$out = ["ini" => [], "files" => [], "pools" => []];
foreach (ini_get_all(null, false) as $k => $v) { $out["ini"][$k] = $v === null ? "" : (string)$v; }
foreach ($in["files"] as $f) {
  $a = @parse_ini_file($f, true, INI_SCANNER_NORMAL);
  if ($a === false) { continue; }
  foreach ($a as $k => $v) {
    if (is_array($v)) {
      if (stripos($k, "PATH=") === 0 || stripos($k, "HOST=") === 0) { continue; }
      foreach ($v as $k2 => $v2) { if (!is_array($v2)) { $out["files"][$k2] = (string)$v2; } }
    } else { $out["files"][$k] = (string)$v; }
  }
}
foreach ($in["pools"] as $p => $s) {
  $a = @parse_ini_string($s, false, INI_SCANNER_NORMAL);
  $out["pools"][$p] = [];
  if ($a !== false) { foreach ($a as $k => $v) { if (!is_array($v)) { $out["pools"][$p][$k] = (string)$v; } } }
}
echo "\n@@modphp-migrate-baseline@@\n", json_encode($out, JSON_FORCE_OBJECT);`

// LoadPools implements PoolSource.
func (s *CLIPoolSource) LoadPools(ctx context.Context, fpmConfig, phpINI string) ([]*Pool, error) {
	raws, err := readFPMConfig(fpmConfig)
	if err != nil {
		return nil, err
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
	var files []string
	if phpINI != "" {
		if _, err := os.Stat(phpINI); err != nil {
			return nil, fmt.Errorf("php.ini: %w", err)
		}
		files = append(files, phpINI)
	}
	if scanDir != "" {
		for _, d := range filepath.SplitList(scanDir) {
			m, _ := filepath.Glob(filepath.Join(d, "*.ini"))
			sort.Strings(m)
			files = append(files, m...)
		}
	}
	req := struct {
		Files []string          `json:"files"`
		Pools map[string]string `json:"pools"`
	}{Files: files, Pools: map[string]string{}}
	for _, r := range raws {
		var b strings.Builder
		for _, d := range r.defines {
			// One line per key; parse_ini_string reads "k = raw" like
			// php-fpm reads the pool line's value.
			fmt.Fprintf(&b, "%s = %s\n", "v"+strconv.Itoa(d.index), d.raw)
		}
		req.Pools[r.name] = b.String()
	}
	out, err := s.runProbe(ctx, phpINI, scanDir, req)
	if err != nil {
		return nil, err
	}
	var pools []*Pool
	for _, r := range raws {
		p := &Pool{Name: r.name, Listen: r.listen, MaxChildren: r.maxChildren, Baseline: map[string]string{}, Locked: map[string]bool{}}
		for k, v := range out.INI {
			if _, cli := cliOverrides[k]; !cli {
				p.Baseline[k] = v
			}
		}
		for k, def := range cliOverrides {
			if v, ok := out.Files[k]; ok {
				p.Baseline[k] = v
			} else if _, known := phpini.Lookup(k); known {
				p.Baseline[k] = def
			}
		}
		// php-fpm applies the pool's plain list, then its admin list; within
		// a list the first line for a key wins (fpm_php.c
		// fpm_php_apply_defines, lists kept newest first).
		applied := map[string]bool{}
		for _, admin := range []bool{false, true} {
			seen := map[string]bool{}
			for _, d := range r.defines {
				if d.admin != admin || seen[d.key] {
					continue
				}
				seen[d.key] = true
				v, ok := out.Pools[r.name]["v"+strconv.Itoa(d.index)]
				if !ok {
					v = ""
				}
				if d.flag {
					v = fpmFlag(v)
				}
				p.Baseline[d.key] = v
				applied[d.key] = true
				if admin {
					p.Locked[d.key] = true
				}
			}
		}
		pools = append(pools, p)
	}
	return pools, nil
}

// fpmFlag is php-fpm's conversion of php_flag values after INI parsing:
// "1" for a true value, "0" otherwise.
func fpmFlag(v string) string {
	if parseINIBool(v) {
		return "1"
	}
	return "0"
}

type probeOutput struct {
	INI   map[string]string            `json:"ini"`
	Files map[string]string            `json:"files"`
	Pools map[string]map[string]string `json:"pools"`
}

// ErrNoPHP means no PHP command-line binary was found to learn the INI
// baseline from.
var ErrNoPHP = errors.New("no PHP command-line binary found (set --php)")

func (s *CLIPoolSource) runProbe(ctx context.Context, phpINI, scanDir string, req any) (*probeOutput, error) {
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
			return nil, ErrNoPHP
		}
	}
	in, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding probe request: %w", err)
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
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("running %s for the INI baseline: %w: %s", bin, err, strings.TrimSpace(stderr.String()))
	}
	// PHP may print startup warnings on stdout first (display_errors);
	// the JSON follows the marker.
	if i := bytes.LastIndex(b, []byte(probeMarker)); i >= 0 {
		b = b[i+len(probeMarker):]
	}
	var out probeOutput
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("reading %s's INI baseline: %w", bin, err)
	}
	return &out, nil
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

// rawPool is one [pool] section as read from the php-fpm configuration.
type rawPool struct {
	name        string
	listen      string
	maxChildren int
	defines     []rawDefine
}

// rawDefine is one php_value[k] (flag, admin) line of a pool.
type rawDefine struct {
	index    int
	key, raw string
	admin    bool
	flag     bool
}

// maxIncludeDepth bounds include= nesting; php-fpm allows five open files.
const maxIncludeDepth = 5

// readFPMConfig reads php-fpm.conf and its include= files line by line as
// php-fpm does (sapi/fpm/fpm/fpm_conf.c fpm_conf_load_ini_file) and returns
// the pools with their listen address, pm.max_children and php_* lines.
func readFPMConfig(p string) ([]*rawPool, error) {
	st := &fpmReadState{byName: map[string]*rawPool{}}
	if err := st.read(p, 0); err != nil {
		return nil, err
	}
	if len(st.pools) == 0 {
		return nil, fmt.Errorf("%s: no pool defined", p)
	}
	return st.pools, nil
}

type fpmReadState struct {
	pools  []*rawPool
	byName map[string]*rawPool
	cur    *rawPool
	n      int
}

func (st *fpmReadState) read(p string, depth int) error {
	if depth > maxIncludeDepth {
		return fmt.Errorf("%s: include= nested deeper than %d", p, maxIncludeDepth)
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("reading php-fpm config: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == ';' || s[0] == '#' {
			continue
		}
		if s[0] == '[' {
			name := strings.TrimSpace(strings.Trim(s, "[]"))
			if strings.EqualFold(name, "global") {
				st.cur = nil
				continue
			}
			key := strings.ToLower(name)
			if st.byName[key] == nil {
				st.byName[key] = &rawPool{name: name}
				st.pools = append(st.pools, st.byName[key])
			}
			st.cur = st.byName[key]
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if strings.EqualFold(k, "include") {
			pat := unquoteSimple(v)
			m, err := filepath.Glob(pat)
			if err != nil {
				return fmt.Errorf("%s:%d: include=%s: %w", p, line, pat, err)
			}
			for _, inc := range m {
				if err := st.read(inc, depth+1); err != nil {
					return err
				}
			}
			continue
		}
		if st.cur == nil {
			continue
		}
		if st.cur != nil {
			v = strings.ReplaceAll(v, "$pool", st.cur.name)
		}
		switch {
		case k == "listen":
			st.cur.listen = unquoteSimple(stripComment(v))
		case k == "pm.max_children":
			n, err := strconv.Atoi(unquoteSimple(stripComment(v)))
			if err != nil || n < 1 {
				return fmt.Errorf("%s:%d: pm.max_children %q is not a positive number", p, line, v)
			}
			st.cur.maxChildren = n
		default:
			for _, kind := range []struct {
				prefix      string
				admin, flag bool
			}{{"php_value[", false, false}, {"php_flag[", false, true}, {"php_admin_value[", true, false}, {"php_admin_flag[", true, true}} {
				if strings.HasPrefix(k, kind.prefix) && strings.HasSuffix(k, "]") {
					st.n++
					st.cur.defines = append(st.cur.defines, rawDefine{index: st.n, key: k[len(kind.prefix) : len(k)-1], raw: v, admin: kind.admin, flag: kind.flag})
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", p, err)
	}
	return nil
}

// stripComment drops a ; comment outside quotes.
func stripComment(v string) string {
	q := byte(0)
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case q != 0 && c == q:
			q = 0
		case q == 0 && (c == '"' || c == '\''):
			q = c
		case q == 0 && c == ';':
			return strings.TrimSpace(v[:i])
		}
	}
	return v
}

func unquoteSimple(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
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
