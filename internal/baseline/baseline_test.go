package baseline

import (
	"bytes"
	"reflect"
	"testing"
)

var entries = []Entry{
	{Fingerprint: "0123456789abcdef0123456789abcdef", Code: "MPM1004", File: "/etc/apache2/sites/a.conf", Line: 3, Message: "memory_limit is set under <IfModule mod_php.c> & more"},
	{Fingerprint: "fedcba9876543210fedcba9876543210", Code: "MPM1003", File: "/var/www/site", Line: 0, Message: "1 world-writable directory"},
}

func TestWriteParse(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, entries); err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": 1,
  "findings": [
    {
      "fingerprint": "0123456789abcdef0123456789abcdef",
      "code": "MPM1004",
      "file": "/etc/apache2/sites/a.conf",
      "line": 3,
      "message": "memory_limit is set under <IfModule mod_php.c> & more"
    },
    {
      "fingerprint": "fedcba9876543210fedcba9876543210",
      "code": "MPM1003",
      "file": "/var/www/site",
      "line": 0,
      "message": "1 world-writable directory"
    }
  ]
}
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	got, err := Parse("b.json", b.Bytes())
	if err != nil || !reflect.DeepEqual(got, entries) {
		t.Errorf("Parse = %+v, %v", got, err)
	}
	b.Reset()
	if err := Write(&b, nil); err != nil || b.String() != "{\n  \"version\": 1,\n  \"findings\": []\n}\n" {
		t.Errorf("empty baseline %q, %v", b.String(), err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"{\n  \"version\": 1,\n  \"findings\": [\n    {\"fingerprint\": \"x\"}\n  ]\n}\n", `b.json: findings[0]: fingerprint "x" is not 32 lowercase hex digits`},
		{"{\n  \"version\": 2,\n  \"findings\": []\n}\n", `b.json: not a version 1 baseline (write it again with lint --write-baseline)`},
		{"{\"findings\": []}", `b.json: not a version 1 baseline (write it again with lint --write-baseline)`},
		{"{\n  \"version\": 1,\n  \"findings\": [],\n  \"extra\": 1\n}\n", `b.json:4: json: unknown field "extra"`},
		{"{\n  \"version\": 1,\n  \"findings\": [\n    {\"line\": \"3\"}\n  ]\n}\n", `b.json:4: json: cannot unmarshal string into Go struct field Entry.findings.line of type int`},
		{"{\n  \"version\": 1,\n  \"findings\": [\n", `b.json:4: unexpected end of the baseline`},
		{"{\n  \"version\": 1,\n  \"findings\": [}\n", `b.json:3: invalid character '}' looking for beginning of value`},
		{"{\"version\": 1, \"findings\": []}\n{}", `b.json:2: data after the baseline object`},
	} {
		_, err := Parse("b.json", []byte(tc.src))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.src, err, tc.want)
		}
	}
}

func TestSet(t *testing.T) {
	s := NewSet(append(entries, entries[0]))
	if !s.Match(entries[0].Fingerprint) || !s.Match(entries[0].Fingerprint) || s.Match(entries[0].Fingerprint) {
		t.Error("an entry recorded twice should match exactly twice")
	}
	if s.Match("00000000000000000000000000000000") {
		t.Error("matched a fingerprint not in the baseline")
	}
	if n := s.Unmatched(); n != 1 {
		t.Errorf("Unmatched = %d, want 1", n)
	}
}
