package shim

import "testing"

// TestExclusiveFor: a pool serves nothing but a scope when each of its
// roots lies at or under the scope's directory.
func TestExclusiveFor(t *testing.T) {
	for _, tc := range []struct {
		roots []string
		scope string
		want  bool
	}{
		{[]string{"/"}, "/", true},
		{[]string{"/"}, "/usr/share/phpmyadmin", false}, // the default pool serves everything
		{[]string{"/usr/share/phpmyadmin"}, "/usr/share/phpmyadmin", true},
		{[]string{"/usr/share/phpmyadmin/sub"}, "/usr/share/phpmyadmin", true},
		{[]string{"/usr/share/phpmyadmin2"}, "/usr/share/phpmyadmin", false},
		{[]string{"/usr/share"}, "/usr/share/phpmyadmin", false},
		{[]string{"/usr/share/phpmyadmin", "/srv/other"}, "/usr/share/phpmyadmin", false},
		{[]string{"/usr/share/phpmyadmin"}, "", false}, // <Files>, <Location>: narrower than any pool
		{nil, "/", false},
	} {
		if got := exclusiveFor(tc.roots, tc.scope); got != tc.want {
			t.Errorf("exclusiveFor(%v, %q) = %v, want %v", tc.roots, tc.scope, got, tc.want)
		}
	}
}
