package baseline

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse parses arbitrary bytes as a baseline: Parse never panics,
// errors name the file, and what it accepts writes back to a baseline that
// parses to the same entries.
func FuzzParse(f *testing.F) {
	var b bytes.Buffer
	if err := Write(&b, entries); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte(`{"version": 1, "findings": null}`))
	f.Add([]byte(`{"version": 1, "findings": [{"fingerprint": "X123456789abcdef0123456789abcdef"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := Parse("b.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "b.json") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		var out bytes.Buffer
		if err := Write(&out, es); err != nil {
			t.Fatal(err)
		}
		again, err := Parse("b.json", out.Bytes())
		if err != nil {
			t.Fatalf("rewritten baseline does not parse: %v\n%s", err, out.String())
		}
		if len(es) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(es, again) {
			t.Fatalf("round trip changed the entries:\n%+v\n%+v", es, again)
		}
	})
}
