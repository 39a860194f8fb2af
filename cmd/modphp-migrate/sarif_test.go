package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// sarifSchemaURL is the id of the vendored schema: the OASIS SARIF 2.1.0
// errata01 schema, testdata/sarif-schema-2.1.0.json.
const sarifSchemaURL = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(sarifSchemaURL, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(sarifSchemaURL)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// sarifTree writes a server tree with a replaceable fix (MPM1001 on the
// ProxyPassMatch), a fix for the php-fpm pool (MPM1004), and a
// world-writable directory (MPM1003, no line). pad blank lines go before
// the ProxyPassMatch.
func sarifTree(t *testing.T, dir string, pad int) {
	t.Helper()
	files := map[string]string{
		"etc/apache2/apache2.conf": "ServerRoot /etc/apache2\nLoadModule php_module /usr/lib/apache2/modules/libphp8.2.so\n<VirtualHost *:80>\n    DocumentRoot /var/www/site\n" +
			strings.Repeat("\n", pad) +
			"    ProxyPassMatch ^/(.*\\.php)$ fcgi://127.0.0.1:9000/srv/other/$1\n    <IfModule mod_php.c>\n        php_value memory_limit 1G\n    </IfModule>\n</VirtualHost>\n",
		"var/www/site/index.php": "<?php\n",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "var/www/site/up"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "var/www/site/up"), 0o777); err != nil {
		t.Fatal(err)
	}
}

// sarifResultView is what the test reads of a result.
type sarifResultView struct {
	RuleID    string `json:"ruleId"`
	Message   struct{ Text string }
	Locations []struct {
		PhysicalLocation struct {
			ArtifactLocation struct{ URI string }
			Region           *sarifRegion
		}
	}
	PartialFingerprints map[string]string
	Fixes               []sarifFix
}

// lintSARIF runs lint --format=sarif on the tree under dir, validates the
// log against the schema and returns it raw and its results.
func lintSARIF(t *testing.T, sch *jsonschema.Schema, dir string) ([]byte, []sarifResultView) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"lint", "--format=sarif", "--root", dir, filepath.Join(dir, "etc/apache2")}, &stdout, &stderr)
	if code != exitFindings {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(stdout.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("SARIF output does not validate against the 2.1.0 schema: %v", err)
	}
	var log struct {
		Runs []struct {
			Results []sarifResultView
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	return stdout.Bytes(), log.Runs[0].Results
}

func byRule(t *testing.T, rs []sarifResultView, id string) sarifResultView {
	t.Helper()
	for _, r := range rs {
		if r.RuleID == id {
			return r
		}
	}
	t.Fatalf("no %s result", id)
	return sarifResultView{}
}

// TestSARIFSchemaFixesFingerprints validates lint's SARIF against the
// official schema, and checks that fixes and partialFingerprints are equal
// across two runs on the same tree, that the fingerprint of a finding
// moved to another line changes while the others stay, and that a
// directory finding has no region.
func TestSARIFSchemaFixesFingerprints(t *testing.T) {
	sch := sarifSchema(t)
	dir := t.TempDir()
	sarifTree(t, dir, 0)
	out1, first := lintSARIF(t, sch, dir)
	out2, again := lintSARIF(t, sch, dir)
	if !bytes.Equal(out1, out2) {
		t.Errorf("two runs on the same tree differ:\n%s\n%s", out1, out2)
	}

	proxy := byRule(t, first, "MPM1001")
	// The handler is the plan's for the site: no pool listens on the
	// route's 127.0.0.1:9000, so the plan replaces the route.
	wantFix := "<FilesMatch \"\\.php$\">\n        <If \"-f %{REQUEST_FILENAME}\">\n            SetHandler \"proxy:unix:/run/php/modphp-migrate-www-data.sock|fcgi://localhost\"\n        </If>\n    </FilesMatch>"
	if len(proxy.Fixes) != 1 {
		t.Fatalf("MPM1001 fixes %+v, want one", proxy.Fixes)
	}
	ch := proxy.Fixes[0].ArtifactChanges[0]
	if ch.ArtifactLocation.URI != sarifURI(filepath.Join(dir, "etc/apache2/apache2.conf")) {
		t.Errorf("fix uri %s", ch.ArtifactLocation.URI)
	}
	rep := ch.Replacements[0]
	if rep.DeletedRegion != (sarifRegion{StartLine: 5, StartColumn: 5}) || rep.InsertedContent.Text != wantFix {
		t.Errorf("fix replaces %+v with %q, want line 5 column 5 with %q", rep.DeletedRegion, rep.InsertedContent.Text, wantFix)
	}

	pool := byRule(t, first, "MPM1004")
	if len(pool.Fixes) != 0 || !strings.HasSuffix(pool.Message.Text, "\nfix:\n; /var/www/site/.user.ini:2\nmemory_limit = 1G\n") {
		t.Errorf("MPM1004: fixes %+v, message %q; want the plan's line in the message only", pool.Fixes, pool.Message.Text)
	}

	perm := byRule(t, first, "MPM1003")
	if loc := perm.Locations[0].PhysicalLocation; loc.Region != nil || loc.ArtifactLocation.URI != sarifURI(filepath.Join(dir, "var/www/site")) {
		t.Errorf("MPM1003 location %+v, want the directory without a region", loc)
	}

	// The same tree copied elsewhere keeps its fingerprints (they are
	// relative to --root).
	dir2 := t.TempDir()
	sarifTree(t, dir2, 0)
	_, copied := lintSARIF(t, sch, dir2)
	for i := range first {
		if first[i].PartialFingerprints[fingerprintKey] != copied[i].PartialFingerprints[fingerprintKey] {
			t.Errorf("%s: fingerprint differs in a copy of the tree", first[i].RuleID)
		}
	}

	// Two blank lines above the ProxyPassMatch move the findings on it and
	// below it; the others (the directory, the <VirtualHost> line) stay.
	sarifTree(t, dir, 2)
	_, moved := lintSARIF(t, sch, dir)
	for i, r := range first {
		fp := r.PartialFingerprints[fingerprintKey]
		if len(fp) != 32 || fp != again[i].PartialFingerprints[fingerprintKey] {
			t.Errorf("%s: fingerprint %q, then %q", r.RuleID, fp, again[i].PartialFingerprints[fingerprintKey])
		}
		m := byRule(t, moved, r.RuleID)
		changed := m.PartialFingerprints[fingerprintKey] != fp
		if wantChanged := startLine(r) != startLine(m); changed != wantChanged {
			t.Errorf("%s: fingerprint changed %v when the line went from %d to %d", r.RuleID, changed, startLine(r), startLine(m))
		}
	}
	for id, want := range map[string]int{"MPM1001": 7, "MPM1004": 8, "MPM1003": 0} {
		if got := startLine(byRule(t, moved, id)); got != want {
			t.Errorf("%s moved to line %d, want %d", id, got, want)
		}
	}
	if got := byRule(t, moved, "MPM1001").Fixes[0].ArtifactChanges[0].Replacements[0].DeletedRegion.StartLine; got != 7 {
		t.Errorf("moved fix starts on line %d, want 7", got)
	}
}

// TestSARIFRules checks the rule metadata: a security-severity for every
// rule from its severity, and help that starts with the rule, not with the
// generated-file comment of docs/rules.
func TestSARIFRules(t *testing.T) {
	var stdout, stderr bytes.Buffer
	dir := t.TempDir()
	sarifTree(t, dir, 0)
	run(context.Background(), []string{"lint", "--format=sarif", "--no-permissions", "--root", dir, filepath.Join(dir, "etc/apache2")}, &stdout, &stderr)
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID                   string
						Help                 struct{ Text, Markdown string }
						DefaultConfiguration struct{ Level string }
						Properties           map[string]string
					}
				}
			}
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"error": "8.0", "warning": "5.0", "note": "2.0"}
	rs := log.Runs[0].Tool.Driver.Rules
	if len(rs) == 0 {
		t.Fatal("no rules")
	}
	for _, r := range rs {
		if got := r.Properties["security-severity"]; got != want[r.DefaultConfiguration.Level] {
			t.Errorf("%s (%s): security-severity %q, want %q", r.ID, r.DefaultConfiguration.Level, got, want[r.DefaultConfiguration.Level])
		}
		if !strings.HasPrefix(r.Help.Markdown, "# "+r.ID+": ") || !strings.HasPrefix(r.Help.Text, r.ID+": ") {
			t.Errorf("%s: help starts %q / %q", r.ID, r.Help.Markdown[:min(40, len(r.Help.Markdown))], r.Help.Text[:min(40, len(r.Help.Text))])
		}
	}
}

func startLine(r sarifResultView) int {
	if reg := r.Locations[0].PhysicalLocation.Region; reg != nil {
		return reg.StartLine
	}
	return 0
}
