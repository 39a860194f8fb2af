package parser

import (
	"strings"
	"testing"
)

func TestLowerName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"DocumentRoot", "documentroot"},
		{"documentroot", "documentroot"},
		{"<IfModule", "<ifmodule"},
		{"IfModule", "ifmodule"},
		{"SetEnvIfNoCase", "setenvifnocase"},
		{"PHP_Value", "php_value"},
		{"NotADirective", "notadirective"},
		{"Ünknown", "Ünknown"}, // ASCII only, like httpd's strcasecmp
		{"", ""},
		{strings.Repeat("X", maxKnownName+1), strings.Repeat("x", maxKnownName+1)},
	} {
		if got := LowerName(tc.in); got != tc.want {
			t.Errorf("LowerName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Every known name is found in knownSlots whatever its spelling, so
// lowering it does not allocate.
func TestLowerNameKnownNoAlloc(t *testing.T) {
	for name := range knownNames {
		if len(name) > maxKnownName {
			continue
		}
		mixed := strings.ToUpper(name[:1]) + name[1:]
		if mixed == name {
			continue
		}
		var got string
		if n := testing.AllocsPerRun(10, func() { got = LowerName(mixed) }); n != 0 || got != name {
			t.Errorf("LowerName(%q) = %q with %v allocations, want %q with none", mixed, got, n, name)
		}
	}
}
