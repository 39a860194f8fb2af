package fcgi

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/lab"
)

// TestFPMPHPValue shows what php-fpm does with PHP_VALUE and PHP_ADMIN_VALUE
// params, on its one worker, each request on a new connection: a setting
// stays in the worker for later requests that send none, only keys sent
// again change, keys ini_set may not change (PHP_INI_SYSTEM ones too) are
// applied from plain PHP_VALUE, a later PHP_VALUE undoes a PHP_ADMIN_VALUE,
// and what php-fpm cannot apply is reported on STDERR while the script
// still runs.
func TestFPMPHPValue(t *testing.T) {
	f := lab.StartFPM(t, lab.FPMConfig{Scripts: map[string]string{
		"ini.php": `<?php header('Content-Type: text/plain');
foreach (['memory_limit', 'display_errors', 'expose_php', 'allow_url_fopen', 'max_file_uploads'] as $k) echo $k, '=', var_export(ini_get($k), true), ' ';`,
	}})
	c := &Client{Network: f.Network, Addr: f.Addr}
	defer c.Close()
	for _, tc := range []struct {
		name, value, admin, want, stderr string
	}{
		{"baseline", "", "", "memory_limit='128M' display_errors='' expose_php='' allow_url_fopen='1' max_file_uploads='20' ", ""},
		{"two keys", "memory_limit=41M\ndisplay_errors=1", "", "memory_limit='41M' display_errors='1' expose_php='' allow_url_fopen='1' max_file_uploads='20' ", ""},
		{"none sent: both kept", "", "", "memory_limit='41M' display_errors='1' expose_php='' allow_url_fopen='1' max_file_uploads='20' ", ""},
		{"one key sent: the other kept", "memory_limit=128M", "", "memory_limit='128M' display_errors='1' expose_php='' allow_url_fopen='1' max_file_uploads='20' ", ""},
		{"keys ini_set cannot change", "expose_php=1\nallow_url_fopen=0\nmax_file_uploads=7", "", "memory_limit='128M' display_errors='1' expose_php='1' allow_url_fopen='0' max_file_uploads='7' ", ""},
		{"admin", "", "allow_url_fopen=0", "memory_limit='128M' display_errors='1' expose_php='1' allow_url_fopen='0' max_file_uploads='7' ", ""},
		{"value after admin", "allow_url_fopen=1", "", "memory_limit='128M' display_errors='1' expose_php='1' allow_url_fopen='1' max_file_uploads='7' ", ""},
		{"engine", "", "engine=0", "memory_limit='128M' display_errors='1' expose_php='1' allow_url_fopen='1' max_file_uploads='7' ",
			"Passing INI directive through FastCGI: unable to set 'engine'"},
		{"php_value syntax", "memory_limit 48M", "", "memory_limit='128M' display_errors='1' expose_php='1' allow_url_fopen='1' max_file_uploads='7' ",
			"Passing INI directive through FastCGI: empty value for key 'memory_limit 48M'"},
	} {
		var extra []Param
		if tc.value != "" {
			extra = append(extra, Param{"PHP_VALUE", tc.value})
		}
		if tc.admin != "" {
			extra = append(extra, Param{"PHP_ADMIN_VALUE", tc.admin})
		}
		var out bytes.Buffer
		res, err := c.Do(context.Background(), &Request{Params: fpmRequest(f, "ini.php", "GET", extra...)}, &out)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body := out.String()[strings.Index(out.String(), "\r\n\r\n")+4:]
		if body != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, body, tc.want)
		}
		if string(res.Stderr) != tc.stderr {
			t.Errorf("%s: stderr %q, want %q", tc.name, res.Stderr, tc.stderr)
		}
	}
}
