package shim

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// FuzzHtaccessPHPValue drives the whole .htaccess → PHP_VALUE path: parse
// as mod_php, merge, keep what mod_php applies, encode. It must never panic,
// and whatever is encoded must read back, in the INI grammar php-fpm uses,
// as exactly the settings that went in; what cannot be encoded must be
// refused, never mangled.
func FuzzHtaccessPHPValue(f *testing.F) {
	for _, s := range []string{
		"php_value memory_limit 77M\nphp_flag display_errors on\n",
		"php_value user_agent \"it's \\\"dq\\\"\"\n",
		"php_value user_agent 'a '\\''b'\n",
		"<IfModule mod_php.c>\nphp_value session.name none\n</IfModule>\n",
		"<Files x.php>\nphp_value error_reporting \"E_ALL & ~E_NOTICE\"\n</Files>\n",
		"php_value user_agent ${HOME}\n",
		"php_value user_agent \"semi;colon ${X} \\\\n\"\n",
		"php_flag engine off\n",
		"php_value include_path \".:/tmp/lab/inc\"\n<FilesMatch \"^z\\.php$\">\nphp_value memory_limit 33M\n</FilesMatch>\n",
		"php_value user_agent '\"'\"'\"'\n",
	} {
		f.Add(s)
	}
	env := evalEnv{lookup: func(n string) (string, bool) {
		if n == "NL" {
			return "a\nb", true
		}
		return "v'" + n, true
	}}
	f.Fuzz(func(t *testing.T, src string) {
		af := parseAccessFile("/fuzz/.htaccess", []byte(src), env)
		if af.err != nil {
			return
		}
		m := merger{}
		m.add(af.dir)
		for i := range af.files {
			if af.files[i].matches("x.php") {
				m.add(af.files[i].lines)
			}
		}
		res := &Resolution{}
		(&Resolver{}).finish(m, res)
		enc, err := EncodePHPValue(res.Settings)
		if err != nil {
			for _, s := range res.Settings {
				if strings.ContainsAny(s.Value, "\n\r\x00") || checkKey(s.Key) != nil || len(s.Value) > 60000 {
					return
				}
			}
			t.Fatalf("EncodePHPValue(%q): %v", res.Settings, err)
		}
		back, err := iniModel(enc)
		if err != nil {
			t.Fatalf("%q does not re-parse: %v", enc, err)
		}
		if len(back) != len(res.Settings) {
			t.Fatalf("re-parsed %q as %q, want %q", enc, back, res.Settings)
		}
		for i := range back {
			if back[i] != res.Settings[i] {
				t.Fatalf("re-parsed %q as %q, want %q", enc, back, res.Settings)
			}
		}
	})
}

// TestEncodeAgainstPHP checks the encoder against PHP's own INI scanner:
// parse_ini_string(…, INI_SCANNER_NORMAL) is the zend_parse_ini_string
// php-fpm runs over PHP_VALUE (docs/behaviour.md#b-fpm-ini-syntax). Skipped without a php
// binary unless MODPHP_MIGRATE_REAL=1.
func TestEncodeAgainstPHP(t *testing.T) {
	php := lab.FindBinary(t, "php8.2", "php")
	values := []string{
		"a b c", "single q", "", "semi;colon", "${HOME}", `it's "dq"`, "0", "1", "stderr",
		"E_ALL & ~E_NOTICE", "32759", "-1", "true", "on", "off", "none", "null", "yes", "a=b", "!x", "a|b", "~x",
		"a{b}c", `"x" "y"`, `C:\path\to`, `it's "dq" ${HOME} \n ; x`, "'", "''", "'x'", `"`, `\`, `\'`, `"'"`,
		"/x/${HTTP_X_TEST}", "${", "}", "$", "#x", "[x]", "x=", "=", "  lead", "trail  ", "\ttab", "ä€", "E_ALL",
	}
	var settings []Setting
	for i, v := range values {
		settings = append(settings, Setting{Key: "k" + strings.Repeat("x", i), Value: v})
	}
	enc, err := EncodePHPValue(settings)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(php, "-n", "-r", `echo json_encode(parse_ini_string(stream_get_contents(STDIN), false, INI_SCANNER_NORMAL));`)
	cmd.Stdin = strings.NewReader(enc)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("php: %v", err)
	}
	var got map[string]string
	if err := json.NewDecoder(bytes.NewReader(out)).Decode(&got); err != nil {
		t.Fatalf("php output %q: %v", out, err)
	}
	for _, s := range settings {
		if v, ok := got[s.Key]; !ok || v != s.Value {
			t.Errorf("%q: PHP read %q (present %v) from %q", s.Value, v, ok, enc)
		}
	}
	if len(got) != len(settings) {
		t.Errorf("PHP read %d keys, want %d", len(got), len(settings))
	}
}
