package migrate

import (
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
)

// TestUnsetsEveryRequestParam: the plan's Apache configuration unsets, in
// an <If "true"> that merges after every .htaccess, each request variable
// php-fpm obeys — the list lint's MPM1006 reports (fpmconf.RequestParams),
// REQUEST_BODY_FILE included.
func TestUnsetsEveryRequestParam(t *testing.T) {
	p := legacy(t, HTAccessShim)
	var conf string
	for _, f := range p.Files {
		if strings.HasSuffix(f.Path, "/"+ConfName) && f.Action != "symlink" {
			conf = f.After
		}
	}
	_, block, ok := strings.Cut(conf, "<IfModule env_module>\n\t<If \"true\">\n\t\tUnsetEnv ")
	if !ok {
		t.Fatalf("no UnsetEnv in <If \"true\"> in %s:\n%s", ConfName, conf)
	}
	line, _, _ := strings.Cut(block, "\n")
	got := strings.Fields(line)
	want := fpmconf.RequestParamNames()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("UnsetEnv %v, want %v", got, want)
	}
	if len(want) < 3 || !strings.Contains(line, "REQUEST_BODY_FILE") {
		t.Errorf("RequestParams lost names: %v", want)
	}
}
