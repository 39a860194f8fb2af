package migrate

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlacementsOnly: a plan built with PlacementsOnly (what lint builds)
// places every setting as the full plan does and writes the same pool and
// .user.ini files, and nothing else.
func TestPlacementsOnly(t *testing.T) {
	root, err := filepath.Abs("../../docs/examples/legacy-server")
	if err != nil {
		t.Fatal(err)
	}
	res := loadRoot(t, root)
	for _, mode := range []HTAccessMode{HTAccessShim, HTAccessUserINI} {
		build := func(only bool) *Plan {
			p, err := Build(Input{Today: res.Today, After: res.After, Root: root, HTAccess: mode, PlacementsOnly: only,
				Owner: func(string) (uint32, uint32, bool) { return 0, 0, true }})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		full, only := build(false), build(true)
		if got, want := mustJSON(t, only.Placements), mustJSON(t, full.Placements); got != want {
			t.Errorf("%s: placements differ:\n%s", mode, UnifiedDiff("full", "placements-only", want, got))
		}
		want := settingFiles(full)
		if len(full.Files) <= len(want) {
			t.Errorf("%s: the full plan writes only pool and .user.ini files; the comparison shows nothing", mode)
		}
		if len(want) < 2 {
			t.Fatalf("%s: the full plan writes %d pool or .user.ini files, want several to compare", mode, len(want))
		}
		got := map[string]string{}
		for _, f := range only.Files {
			got[f.Path] = f.After
		}
		for p, after := range want {
			if got[p] != after {
				t.Errorf("%s: %s differs:\n%s", mode, p, UnifiedDiff("full", "placements-only", after, got[p]))
			}
		}
		for p := range got {
			if _, ok := want[p]; !ok {
				t.Errorf("%s: placements-only plan writes %s, which is no pool or .user.ini file", mode, p)
			}
		}
	}
}

// settingFiles are the pool and .user.ini files of a plan, last content
// by path.
func settingFiles(p *Plan) map[string]string {
	out := map[string]string{}
	for _, f := range p.Files {
		if strings.HasSuffix(f.Path, "/.user.ini") || strings.Contains(f.Path, "/pool.d/modphp-migrate-") {
			out[f.Path] = f.After
		}
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
