package shim

import (
	"os/exec"
	"testing"
)

// TestRefusedHint pins the values the shim knows PHP refuses, and checks
// each against ini_set() in the PHP binary when it is installed (the same
// handlers run at run time).
func TestRefusedHint(t *testing.T) {
	p := &Pool{TimeZones: map[string]bool{"utc": true, "europe/berlin": true}}
	php, _ := exec.LookPath("php8.2")
	for _, tc := range []struct {
		key, value string
		refused    bool
	}{
		{"memory_limit", "1", true},
		{"memory_limit", "1M", true},
		{"memory_limit", "2047K", true},
		{"memory_limit", "2048K", false},
		{"memory_limit", "2M", false},
		{"memory_limit", "64M", false},
		{"memory_limit", "-1", false},
		{"date.timezone", "Europe/Berlin", false},
		{"date.timezone", "europe/BERLIN", false},
		{"date.timezone", "Bogus/Zone", true},
		{"user_agent", "anything", false},
	} {
		if got := p.refusedHint(tc.key, tc.value) != ""; got != tc.refused {
			t.Errorf("refusedHint(%s, %s): refused %v, want %v", tc.key, tc.value, got, tc.refused)
		}
		if php == "" || tc.key == "user_agent" {
			continue
		}
		out, err := exec.Command(php, "-n", "-r", `echo @ini_set($argv[1], $argv[2]) === false ? "refused" : "set";`, "--", tc.key, tc.value).Output()
		if err != nil {
			t.Fatal(err)
		}
		if real := string(out) == "refused"; real != tc.refused {
			t.Errorf("PHP says %s for %s=%s", out, tc.key, tc.value)
		}
	}
}
