package fpmconf

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// realEnv is the variable that turns a missing php or php-fpm binary into a
// test failure (internal/lab.RealEnv).
const realEnv = "MODPHP_MIGRATE_REAL"

func needBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(realEnv) == "1" {
			t.Fatalf("%s is required (%s=1): %v", name, realEnv, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

// emulate runs parseINI and builds what PHP's parse_ini_string($s, true,
// INI_SCANNER_NORMAL) returns, flattened to sorted "path=value" lines, or
// "false" on a syntax error.
func emulate(src string, env map[string]string) string {
	var events []iniEvent
	serr := parseINI(src, func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}, func(ev iniEvent) { events = append(events, ev) })
	if serr != nil {
		return "false"
	}
	type arr struct {
		m    map[string]any
		next int
	}
	newArr := func() *arr { return &arr{m: map[string]any{}} }
	root := newArr()
	cur := root
	set := func(a *arr, k string, v any) {
		if n, err := strconv.Atoi(k); err == nil && strconv.Itoa(n) == k && n >= a.next {
			a.next = n + 1
		}
		a.m[k] = v
	}
	for _, ev := range events {
		switch ev.kind {
		case evSection:
			cur = newArr()
			set(root, ev.key, cur)
		case evEntry:
			set(cur, ev.key, ev.value)
		case evArray:
			a, ok := cur.m[ev.key].(*arr)
			if !ok {
				a = newArr()
				set(cur, ev.key, a)
			}
			if ev.offset == "" {
				set(a, strconv.Itoa(a.next), ev.value)
			} else {
				set(a, ev.offset, ev.value)
			}
		}
	}
	var lines []string
	var walk func(prefix string, a *arr)
	walk = func(prefix string, a *arr) {
		for k, v := range a.m {
			switch v := v.(type) {
			case *arr:
				walk(prefix+k+"\x1f", v)
			case string:
				lines = append(lines, prefix+k+"="+v)
			}
		}
	}
	walk("", root)
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

const phpFlatten = `<?php
$cases = json_decode(file_get_contents($argv[1]), true);
$out = [];
function flat($prefix, $a, &$lines) {
	foreach ($a as $k => $v) {
		if (is_array($v)) { flat($prefix . $k . "\x1f", $v, $lines); }
		else { $lines[] = $prefix . $k . "=" . $v; }
	}
}
foreach ($cases as $c) {
	$r = @parse_ini_string($c, true, INI_SCANNER_NORMAL);
	if ($r === false) { $out[] = "false"; continue; }
	$lines = [];
	flat("", $r, $lines);
	sort($lines, SORT_STRING);
	$out[] = implode("\n", $lines);
}
echo json_encode($out);
`

// runPHP evaluates cases with php's parse_ini_string, the same scanner and
// parser php.ini and php-fpm.conf are read with.
func runPHP(t *testing.T, cases []string, env map[string]string) []string {
	t.Helper()
	php := needBinary(t, "php")
	dir := t.TempDir()
	b, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/cases.json", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/flat.php", []byte(phpFlatten), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(php, "-n", dir+"/flat.php", dir+"/cases.json")
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("php: %v", err)
	}
	var res []string
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("php output: %v\n%s", err, out)
	}
	if len(res) != len(cases) {
		t.Fatalf("php answered %d cases, want %d", len(res), len(cases))
	}
	return res
}

// scanCases are inputs whose handling by PHP 8.2 was surprising enough to
// pin down.
var scanCases = []string{
	"a=on x", "a=yes please", "a=b=c", "a = On ", "a=onion", `a="x" y 'z' w`, "a=E_ALL & ~E_NOTICE",
	`a = "C:\path\"`, `a="q\"q\\b\$c\n"`, "[ www ]\na=1", "[w w] junk\na=1", "# c = 1", "#c", "k",
	"a[ x ] = 1", "a[E_ALL]=1", "a=${FPMCONF_T}/x", `a="${FPMCONF_T}"`, "a='${FPMCONF_T}'", "a=$pool.sock",
	"a=1;c", `a="1;c"`, "a=NULL", "a=None", "a=TRUE", "a = a b  c ", "a=(1|2)", "a=!1", "a=x|y",
	"k = -1", "a=1.5", `a="abc`, "a='abc", " a = 1", "a b = 1", "a\tb = 1", "a=\tx", "a=foo$", "a=$",
	"a={x}", "a=x^y", "a = /x:/y", "a=10s;", "[a]b=1", "a=foo$\nb=1", "a=''", "a]b=1", "[E_ALL]\na=1",
	"yes = 1", "a=x'y", `a=""`, `a="x""y"`, `a = x "y" z`, `a="x${FPMCONF_T}y"`, "a=${NOPE_X}", "a=${}",
	`a="\\"`, "a=1\r\nb=2", "a=1\rb=2", "a=\"multi\nline\"", "a='multi\nline'", "a = 1 ; c\nb=2",
	"a=1 \n", "[ x ]y=1", "a[]=1\na[]=2", "a[b]", "=1", "a=1\n=2", "a=E_ALL|", "a=~", "a=(1", "a=()",
	`a="q" ;c`, `a="\""`, "a=-E_ALL", "a=ON_X", "a = on\tx", "a=!", "a = 1 2", "a=${FPMCONF_T",
	"a.b-c/d:e=1", "a=http://x", "[sec];c\na=1", "a= yes ", "a=E_ALL E_ALL", "a=foo bar ; c",
	"a=''\nb=1", "a='' x", "a='abc\nb=1", "a=x'\nb=1", "a=''''", "a='x''y'", "[a'b']\nc=1", "[a''b]\nc=1",
	"a[x'y']=1", "a=x ''", "a='\n'", "\"a\"=1", "'a'=1", "a=\"x\\\"\ny=1", "[x]]\n", "a[\"q\"]=1",
	"a[${FPMCONF_T}]=1", "a [x]=1", "a[x] [y]=1", "a[x]=\n", "a[x]b=1", "\xEF\xBB\xBFa=1",
	"a=E_ALL & ~E_DEPRECATED & ~E_STRICT", "error_reporting = E_ALL & ~(E_NOTICE|E_WARNING)",
	"a = ~E_ALL", "a=!0", "a=!(1&0)", "[PATH=/var/www/]\na=1", "a=1\n[b]\n[b]\nc=2",
}

var scanEnv = map[string]string{"FPMCONF_T": "/env"}

// TestScanAgainstPHP compares the scanner with php's parse_ini_string on
// the pinned cases and on random inputs built from the characters that
// matter to the scanner.
func TestScanAgainstPHP(t *testing.T) {
	cases := append([]string(nil), scanCases...)
	frags := []string{"a", "b", "k", "=", " = ", " ", "\t", "\n", "\r\n", "\r", ";", ";c", `"`, "'", "[", "]",
		"${", "}", "FPMCONF_T", "$", `\`, "|", "&", "^", "~", "!", "(", ")", "on", "Off", "null", "none",
		"E_ALL", "x y", "1", "-2", ".5", "#", "php_value", ":", "/", "{", ".", "yes ", "TRUE", "a[", "=\"",
		"='", "\"\n", "$pool", "[x]\n", "'x'", `"x"`, "${FPMCONF_T}", "a[]=", "[PATH=/x]", "E_NOTICE",
		"0", "12", `\"`, `$\`, "x1", "\x00"}
	r := rand.New(rand.NewPCG(5, 2))
	for range 20000 {
		var b strings.Builder
		for range 1 + r.IntN(12) {
			b.WriteString(frags[r.IntN(len(frags))])
		}
		cases = append(cases, b.String())
	}
	want := runPHP(t, cases, scanEnv)
	fails := 0
	for i, c := range cases {
		got := emulate(c, scanEnv)
		if got != want[i] {
			fails++
			if fails <= 25 {
				t.Errorf("parse %q:\n got %q\nwant %q", c, got, want[i])
			}
		}
	}
	if fails > 0 {
		t.Errorf("%d of %d inputs differ from PHP", fails, len(cases))
	}
}

// TestScanValues pins exact values, independent of a PHP binary.
func TestScanValues(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"a = On ", "a=1"},
		{"a=off", "a="},
		{"a=null", "a="},
		{"a=none", "a="},
		{"a=E_ALL & ~E_NOTICE", "a=32759"},
		{"a=1;c", "a=1"},
		{`a="1;c"`, "a=1;c"},
		{`a=" spaced "`, "a= spaced "},
		{"a='${FPMCONF_T};raw'", "a=${FPMCONF_T};raw"},
		{`a="${FPMCONF_T}/x"`, "a=/env/x"},
		{"a=${FPMCONF_T}/x", "a=/env/x"},
		{"a=", "a="},
		{"a=b=c", "false"},
		{`a = "C:\path\"`, `a=C:\path\`},
		{"a=$pool.sock", "a=$pool.sock"},
		{"a[ x ] = 1", "a\x1fx =1"},
	} {
		if got := emulate(tc.src, scanEnv); got != tc.want {
			t.Errorf("parse %q = %q, want %q", tc.src, got, tc.want)
		}
	}
}

func ExampleDiagnostic_String() {
	d := Diagnostic{Severity: SeverityError, Message: "syntax error, unexpected '='"}
	d.Pos.File, d.Pos.Line, d.Pos.Col = "php-fpm.conf", 3, 7
	fmt.Println(d)
	// Output: php-fpm.conf:3:7: syntax error, unexpected '='
}
