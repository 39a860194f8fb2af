package fcgi

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
)

// unhex decodes a hex string with spaces and | separators for readability.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.NewReplacer(" ", "", "|", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

func TestPadding(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{0, 0}, {1, 7}, {2, 6}, {7, 1}, {8, 0}, {9, 7}, {16, 0}, {65527, 1}, {65528, 0}, {65529, 0}, {65535, 0},
	} {
		if got := padding(tc.n); got != tc.want {
			t.Errorf("padding(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

func TestRecordEncoding(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"header stdout 5 bytes", appendHeader(nil, typeStdout, 1, 5), "01 06 0001 0005 03 00"},
		{"header request id 0x1234", appendHeader(nil, typeStdin, 0x1234, 0), "01 05 1234 0000 00 00"},
		{"header 65535 bytes, unpadded", appendHeader(nil, typeStderr, 1, 65535), "01 07 0001 ffff 00 00"},
		{"header 65529 bytes, unpadded", appendHeader(nil, typeStderr, 1, 65529), "01 07 0001 fff9 00 00"},
		{"header 65527 bytes", appendHeader(nil, typeStderr, 1, 65527), "01 07 0001 fff7 01 00"},
		{"header 256 bytes", appendHeader(nil, typeParams, 1, 256), "01 04 0001 0100 00 00"},
		{"empty params ends stream", appendRecord(nil, typeParams, 1, nil), "01 04 0001 0000 00 00"},
		{"stdout 'hello' padded", appendRecord(nil, typeStdout, 1, []byte("hello")), "01 06 0001 0005 03 00 | 68656c6c6f | 000000"},
		{"stdin 8 bytes no padding", appendRecord(nil, typeStdin, 1, []byte("12345678")), "01 05 0001 0008 00 00 | 3132333435363738"},
		{"begin responder keep-conn", appendBeginRequest(nil, 1, RoleResponder, true), "01 01 0001 0008 00 00 | 0001 01 0000000000"},
		{"begin responder close", appendBeginRequest(nil, 1, RoleResponder, false), "01 01 0001 0008 00 00 | 0001 00 0000000000"},
		{"begin filter", appendBeginRequest(nil, 7, RoleFilter, false), "01 01 0007 0008 00 00 | 0003 00 0000000000"},
		{"begin authorizer", appendBeginRequest(nil, 1, RoleAuthorizer, false), "01 01 0001 0008 00 00 | 0002 00 0000000000"},
		{"end complete", appendEndRequest(nil, 1, 0, StatusRequestComplete), "01 03 0001 0008 00 00 | 00000000 00 000000"},
		{"end app status 0x01020304", appendEndRequest(nil, 1, 0x01020304, StatusRequestComplete), "01 03 0001 0008 00 00 | 01020304 00 000000"},
		{"end cant mpx", appendEndRequest(nil, 2, 0, StatusCantMultiplex), "01 03 0002 0008 00 00 | 00000000 01 000000"},
		{"end overloaded", appendEndRequest(nil, 1, 0, StatusOverloaded), "01 03 0001 0008 00 00 | 00000000 02 000000"},
		{"end unknown role", appendEndRequest(nil, 1, 0, StatusUnknownRole), "01 03 0001 0008 00 00 | 00000000 03 000000"},
		{"abort", appendRecord(nil, typeAbortRequest, 1, nil), "01 02 0001 0000 00 00"},
		{"data 1 byte", appendRecord(nil, typeData, 1, []byte{0xff}), "01 08 0001 0001 07 00 | ff 00000000000000"},
		{"get values", appendRecord(nil, typeGetValues, 0, appendPair(nil, ValueMpxsConns, "")),
			"01 09 0000 0011 07 00 | 0f 00 " + hex.EncodeToString([]byte("FCGI_MPXS_CONNS")) + " | 00000000000000"},
		{"get values result", appendRecord(nil, typeGetValuesResult, 0, appendPair(nil, ValueMpxsConns, "0")),
			"01 0a 0000 0012 06 00 | 0f 01 " + hex.EncodeToString([]byte("FCGI_MPXS_CONNS0")) + " | 000000000000"},
		{"unknown type", appendRecord(nil, typeUnknownType, 0, []byte{42, 0, 0, 0, 0, 0, 0, 0}), "01 0b 0000 0008 00 00 | 2a 00000000000000"},
	} {
		if want := unhex(t, tc.want); !bytes.Equal(tc.got, want) {
			t.Errorf("%s:\n got % x\nwant % x", tc.name, tc.got, want)
		}
	}
}

func TestRecordTypeNames(t *testing.T) {
	for typ, want := range map[recType]string{
		typeBeginRequest: "BEGIN_REQUEST", typeAbortRequest: "ABORT_REQUEST", typeEndRequest: "END_REQUEST",
		typeParams: "PARAMS", typeStdin: "STDIN", typeStdout: "STDOUT", typeStderr: "STDERR", typeData: "DATA",
		typeGetValues: "GET_VALUES", typeGetValuesResult: "GET_VALUES_RESULT", typeUnknownType: "UNKNOWN_TYPE",
		0: "type 0", 12: "type 12",
	} {
		if got := typ.String(); got != want {
			t.Errorf("recType(%d).String() = %q, want %q", typ, got, want)
		}
	}
}

// TestWriteStreamSplit checks that streams are split at 65535 bytes and
// each record is padded to 8.
func TestWriteStreamSplit(t *testing.T) {
	for _, tc := range []struct {
		n       int
		records []int // content lengths
	}{
		{0, nil},
		{1, []int{1}},
		{65535, []int{65535}},
		{65536, []int{65535, 1}},
		{65535 * 2, []int{65535, 65535}},
		{65535*2 + 7, []int{65535, 65535, 7}},
	} {
		p := bytes.Repeat([]byte{'x'}, tc.n)
		var out bytes.Buffer
		if _, err := writeStream(&out, nil, typeStdout, 1, p); err != nil {
			t.Fatal(err)
		}
		var want []byte
		for _, n := range tc.records {
			want = appendHeader(want, typeStdout, 1, n)
			want = append(want, bytes.Repeat([]byte{'x'}, n)...)
			want = append(want, make([]byte, padding(n))...)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Errorf("writeStream(%d bytes): got %d bytes, want %d (records %v)", tc.n, out.Len(), len(want), tc.records)
			continue
		}
		// Headers of the first two records, byte for byte.
		if tc.n == 65536 {
			got := out.Bytes()
			if h1, h2 := got[:8], got[8+65535:8+65535+8]; !bytes.Equal(h1, unhex(t, "01 06 0001 ffff 00 00")) || !bytes.Equal(h2, unhex(t, "01 06 0001 0001 07 00")) {
				t.Errorf("65536-byte stream headers: % x, % x", h1, h2)
			}
		}
	}
}

func TestRecordReader(t *testing.T) {
	var in []byte
	in = appendRecord(in, typeStdout, 1, []byte("hello"))
	in = appendHeader(in, typeStderr, 1, 3) // padding 5 ...
	in = append(in, "abc"...)
	in = append(in, 9, 9, 9, 9, 9) // ... whose bytes are ignored
	// A record with more padding than needed (allowed by the spec).
	in = append(in, version1, byte(typeStdout), 0, 1, 0, 1, 255, 0, 'Z')
	in = append(in, make([]byte, 255)...)
	in = appendRecord(in, typeEndRequest, 1, make([]byte, 8))
	rr := newRecordReader(bytes.NewReader(in))
	var got []string
	for {
		h, content, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h.Type.String()+":"+string(content))
	}
	want := "STDOUT:hello STDERR:abc STDOUT:Z END_REQUEST:" + string(make([]byte, 8))
	if strings.Join(got, " ") != want {
		t.Errorf("records = %q, want %q", strings.Join(got, " "), want)
	}
}

func TestRecordReaderErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []error
	}{
		{"version 0", "00 06 0001 0000 00 00", []error{ErrBadVersion}},
		{"version 2", "02 06 0001 0000 00 00", []error{ErrBadVersion}},
		{"half a header", "01 06 00", []error{ErrMalformedRecord, io.ErrUnexpectedEOF}},
		{"content past the end", "01 06 0001 0010 00 00 | 41424344", []error{ErrMalformedRecord, io.ErrUnexpectedEOF}},
		{"padding past the end", "01 06 0001 0001 07 00 | 41 0000", []error{ErrMalformedRecord, io.ErrUnexpectedEOF}},
	} {
		rr := newRecordReader(bytes.NewReader(unhex(t, tc.in)))
		_, _, err := rr.next()
		for _, w := range tc.want {
			if !errors.Is(err, w) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, w)
			}
		}
	}
	// The message names what was wrong.
	rr := newRecordReader(bytes.NewReader(unhex(t, "01 06 0001 0010 00 00 | 41424344")))
	if _, _, err := rr.next(); err == nil || !strings.Contains(err.Error(), "STDOUT record for request 1: stream ends after 4 of 16 content and padding bytes") {
		t.Errorf("truncated record error = %v", err)
	}
}
