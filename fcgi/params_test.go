package fcgi

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestPairEncoding(t *testing.T) {
	s := strings.Repeat
	for _, tc := range []struct {
		name, n, v string
		want       string // hex of the length bytes; name and value follow
	}{
		{"empty", "", "", "00 00"},
		{"short", "A", "b", "01 01"},
		{"name 127", s("n", 127), "v", "7f 01"},
		{"name 128", s("n", 128), "v", "80000080 01"},
		{"value 127", "N", s("v", 127), "01 7f"},
		{"value 128", "N", s("v", 128), "01 80000080"},
		{"value 255", "N", s("v", 255), "01 800000ff"},
		{"value 256", "N", s("v", 256), "01 80000100"},
		{"value 65527", "N", s("v", 65527), "01 8000fff7"},
		{"both 4-byte", s("n", 300), s("v", 70000), "8000012c 80011170"},
	} {
		got := appendPair(nil, tc.n, tc.v)
		want := append(unhex(t, tc.want), tc.n+tc.v...)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: length bytes % x, want %s", tc.name, got[:len(got)-len(tc.n)-len(tc.v)], tc.want)
		}
		if pairSize(tc.n, tc.v) != len(want) {
			t.Errorf("%s: pairSize = %d, want %d", tc.name, pairSize(tc.n, tc.v), len(want))
		}
		ps, err := decodeParams(nil, string(got))
		if err != nil || len(ps) != 1 || ps[0].Name != tc.n || ps[0].Value != tc.v {
			t.Errorf("%s: decode = %d pairs, err %v", tc.name, len(ps), err)
		}
	}
}

func TestDecodeParamsExact(t *testing.T) {
	// Names and values are kept byte for byte, in order, duplicates
	// included; nothing is case-folded or trimmed.
	in := Params{
		{"SCRIPT_FILENAME", "proxy:fcgi://localhost/tmp/www/ini.php"},
		{"HTTP_X_A", " spaced \x00nul\xff"},
		{"lower", ""},
		{"", "empty name"},
		{"DUP", "1"},
		{"DUP", "2"},
	}
	var enc []byte
	for _, p := range in {
		enc = appendPair(enc, p.Name, p.Value)
	}
	got, err := decodeParams(nil, string(enc))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("got %d pairs, want %d", len(got), len(in))
	}
	for i := range in {
		if got[i] != in[i] {
			t.Errorf("pair %d = %q, want %q", i, got[i], in[i])
		}
	}
	if v, ok := got.Lookup("DUP"); !ok || v != "2" {
		t.Errorf("Lookup(DUP) = %q, %v; want the last one, 2", v, ok)
	}
	if _, ok := got.Lookup("dup"); ok {
		t.Error("Lookup is case-insensitive; names must match exactly")
	}
}

func TestDecodeParamsMalformed(t *testing.T) {
	for _, tc := range []struct{ name, in, msg string }{
		{"no value length", "05", "pair at offset 0: value length runs past the end"},
		{"short 4-byte name length", "80 00 01", "pair at offset 0: name length runs past the end"},
		{"short 4-byte value length", "01 80 00", "pair at offset 0: value length runs past the end"},
		{"name past end", "05 00 4142", "pair at offset 0: name 5 + value 0 bytes run past the end (2 bytes left)"},
		{"value past end", "01 05 41 42", "name 1 + value 5 bytes run past the end (2 bytes left)"},
		{"second pair past end", "01 01 41 42 | 7f 00", "pair at offset 4: name 127 + value 0 bytes run past the end"},
		{"huge 4-byte length", "ffffffff 00", "name 2147483647 + value 0 bytes run past the end"},
	} {
		_, err := decodeParams(nil, string(unhex(t, tc.in)))
		if !errors.Is(err, ErrMalformedParams) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: err = %v, want ErrMalformedParams with %q", tc.name, err, tc.msg)
		}
	}
}

// encodeParams runs appendParamsRecords into one buffer.
func encodeParams(t *testing.T, ps Params) []byte {
	t.Helper()
	if err := checkPairs(ps); err != nil {
		t.Fatal(err)
	}
	out, err := appendParamsRecords(nil, 1, ps, 1<<30, func(b []byte) ([]byte, error) { t.Fatal("unexpected flush"); return b, nil })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParamsRecords(t *testing.T) {
	// Small params share one record, padded, then the empty record.
	got := encodeParams(t, Params{{"A", "b"}, {"CD", ""}})
	want := unhex(t, "01 04 0001 0008 00 00 | 01 01 41 62 | 02 00 4344 | 01 04 0001 0000 00 00")
	got3 := encodeParams(t, Params{{"A", "bc"}})
	if want3 := unhex(t, "01 04 0001 0005 03 00 | 01 02 41 6263 | 000000 | 01 04 0001 0000 00 00"); !bytes.Equal(got3, want3) {
		t.Errorf("padded params: got % x\nwant % x", got3, want3)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got  % x\nwant % x", got, want)
	}

	// A pair that exactly fills a record: 1+4+1+65529 = 65535.
	exact := Param{"N", strings.Repeat("v", 65529)}
	got = encodeParams(t, Params{exact})
	if h := got[:8]; !bytes.Equal(h, unhex(t, "01 04 0001 ffff 00 00")) {
		t.Errorf("exact-fit header % x", h)
	}
	if len(got) != 8+65535+8 {
		t.Errorf("exact-fit stream is %d bytes", len(got))
	}

	// Pairs are never split: the second pair starts a new record even
	// though 60000 bytes of room are left in the first.
	a := Param{"A", strings.Repeat("a", 5000)}
	b := Param{"B", strings.Repeat("b", 61000)}
	got = encodeParams(t, Params{a, b})
	sa, sb := pairSize(a.Name, a.Value), pairSize(b.Name, b.Value)
	rr := newRecordReader(bytes.NewReader(got))
	var sizes []int
	var all []byte
	for {
		h, c, err := rr.next()
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, int(h.ContentLength))
		all = append(all, c...)
		if h.ContentLength == 0 {
			break
		}
		// Every record decodes on its own: no pair straddles.
		if _, err := decodeParams(nil, string(c)); err != nil {
			t.Errorf("record of %d bytes does not decode alone: %v", len(c), err)
		}
	}
	if len(sizes) != 3 || sizes[0] != sa || sizes[1] != sb || sizes[2] != 0 {
		t.Errorf("record sizes %v, want [%d %d 0]", sizes, sa, sb)
	}
	ps, err := decodeParams(nil, string(all))
	if err != nil || len(ps) != 2 || ps[0] != a || ps[1] != b {
		t.Errorf("round trip lost pairs: %d, %v", len(ps), err)
	}
}

func TestParamTooLarge(t *testing.T) {
	for _, tc := range []struct {
		p  Param
		ok bool
	}{
		{Param{"N", strings.Repeat("v", 65529)}, true},  // 65535 encoded
		{Param{"N", strings.Repeat("v", 65530)}, false}, // 65536 encoded
		{Param{strings.Repeat("n", 40000), strings.Repeat("v", 40000)}, false},
		{Param{"PHP_VALUE", strings.Repeat("v", 1<<20)}, false},
	} {
		err := checkPairs(Params{{"A", "b"}, tc.p})
		if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, ErrParamTooLarge)) {
			t.Errorf("pair of %d bytes: err = %v", pairSize(tc.p.Name, tc.p.Value), err)
		}
		if !tc.ok && !strings.Contains(err.Error(), "param 1 ") {
			t.Errorf("error does not name the param: %v", err)
		}
	}
}

func TestSetContentLength(t *testing.T) {
	base := Params{{"A", "1"}, {"CONTENT_LENGTH", "5"}, {"B", "2"}}
	if got := setContentLength(base, 5); &got[0] != &base[0] {
		t.Error("a correct CONTENT_LENGTH was copied")
	}
	got := setContentLength(base, 7)
	if got[1] != (Param{"CONTENT_LENGTH", "7"}) || len(got) != 3 || base[1].Value != "5" {
		t.Errorf("replace in place: %q (caller's params %q)", got, base)
	}
	got = setContentLength(Params{{"A", "1"}}, 3)
	if len(got) != 2 || got[1] != (Param{"CONTENT_LENGTH", "3"}) {
		t.Errorf("append: %q", got)
	}
	// An empty body goes without a length, as Apache sends a GET; a
	// wrong length is still corrected.
	if got = setContentLength(Params{{"A", "1"}}, 0); len(got) != 1 {
		t.Errorf("empty body: %q", got)
	}
	if got = setContentLength(Params{{"CONTENT_LENGTH", "9"}}, 0); len(got) != 1 || got[0] != (Param{"CONTENT_LENGTH", "0"}) {
		t.Errorf("empty body with a length: %q", got)
	}
}
