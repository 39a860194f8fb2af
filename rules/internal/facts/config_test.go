package facts

import (
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

func TestSetVars(t *testing.T) {
	node := func(name string, args ...string) *parser.Node {
		return &parser.Node{Kind: parser.KindDirective, Name: name, Args: args}
	}
	for _, tc := range []struct {
		n    *parser.Node
		want string
	}{
		{node("SetEnv", "PHP_VALUE", "x=1"), "PHP_VALUE"},
		{node("SetEnvIf", "Request_URI", "^/a", "A=1", "!B", "C"), "A C"},
		{node("SetEnvIfExpr", "true", "PHP_VALUE=x"), "PHP_VALUE"},
		{node("BrowserMatchNoCase", "curl", "X"), "X"},
		{node("ProxyFCGISetEnvIf", "true", "!PHP_VALUE"), ""},
		{node("ProxyFCGISetEnvIf", "true", "PHP_ADMIN_VALUE", "v"), "PHP_ADMIN_VALUE"},
		{node("RewriteRule", ".*", "-", "[E=PHP_VALUE:a=b,L,env=X:1,E=!Y]"), "PHP_VALUE X"},
		{node("RewriteRule", ".*", "-"), ""},
		{node("PassEnv", "A", "B"), "A B"},
	} {
		if got := strings.Join(SetVars(tc.n), " "); got != tc.want {
			t.Errorf("SetVars(%s %v) = %q, want %q", tc.n.Name, tc.n.Args, got, tc.want)
		}
	}
}
