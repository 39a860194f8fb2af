package parser

import "testing"

func TestPathUnder(t *testing.T) {
	for _, c := range []struct {
		p, dir string
		want   bool
	}{
		{"/var/www/site", "/var/www", true},
		{"/var/www", "/var/www/", true},
		{"/var/www2", "/var/www", false},
		{"/var/www/../etc", "/var/www", false},
		{"/etc", "/", true},
		{"", "/var", false},
	} {
		if got := PathUnder(c.p, c.dir); got != c.want {
			t.Errorf("PathUnder(%q, %q) = %v, want %v", c.p, c.dir, got, c.want)
		}
	}
}
