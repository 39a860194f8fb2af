package fcgi

import (
	"fmt"
	"strconv"
)

// Param is one name-value pair of a params stream, byte for byte as it
// travels: names are not case-folded or deduplicated, and Go strings carry
// arbitrary bytes.
type Param struct {
	Name  string
	Value string
}

// Params is an ordered list of name-value pairs: the FCGI_PARAMS stream of a
// request (CGI/1.1 environment plus whatever the web server adds) or the
// body of a GET_VALUES record. Order and duplicates are kept as received.
type Params []Param

// Lookup returns the value of the last pair named name, which is the one
// php-fpm uses when a name repeats (docs/behaviour.md#b-fpm-ini-syntax), and whether there
// was one.
func (ps Params) Lookup(name string) (string, bool) {
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].Name == name {
			return ps[i].Value, true
		}
	}
	return "", false
}

// Name-value pair encoding (§3.4): each length is one byte when below 128,
// otherwise four bytes big-endian with the high bit set.

// lenSize returns the number of bytes that encode length n.
func lenSize(n int) int {
	if n < 128 {
		return 1
	}
	return 4
}

// pairSize returns the encoded size of the pair name=value.
func pairSize(name, value string) int {
	return lenSize(len(name)) + lenSize(len(value)) + len(name) + len(value)
}

func appendLen(dst []byte, n int) []byte {
	if n < 128 {
		return append(dst, byte(n))
	}
	return append(dst, byte(n>>24)|0x80, byte(n>>16), byte(n>>8), byte(n))
}

// appendPair appends the encoding of name=value.
func appendPair(dst []byte, name, value string) []byte {
	dst = appendLen(dst, len(name))
	dst = appendLen(dst, len(value))
	dst = append(dst, name...)
	return append(dst, value...)
}

// checkPairs returns an error wrapping ErrParamTooLarge for the first pair
// that cannot be written inside one record.
func checkPairs(ps Params) error {
	for i, p := range ps {
		if n := pairSize(p.Name, p.Value); n > maxContent {
			return fmt.Errorf("param %d %s: %d bytes encoded, at most %d fit in one record: %w",
				i, quoteName(p.Name), n, maxContent, ErrParamTooLarge)
		}
	}
	return nil
}

// quoteName quotes a param name for an error message, shortened so that a
// hostile name cannot flood logs.
func quoteName(name string) string {
	const max = 64
	if len(name) > max {
		return strconv.Quote(name[:max]) + "..."
	}
	return strconv.Quote(name)
}

// appendParamsRecords appends ps as PARAMS records for request id, each
// pair whole inside one record and records filled up to maxContent bytes,
// followed by the empty PARAMS record that ends the stream. It calls flush
// whenever buf holds more than flushAt bytes (flush returns the buffer to
// continue with). Pairs must have passed checkPairs.
func appendParamsRecords(buf []byte, id uint16, ps Params, flushAt int, flush func([]byte) ([]byte, error)) ([]byte, error) {
	var err error
	for i := 0; i < len(ps); {
		// Size the record: as many whole pairs as fit.
		n, j := 0, i
		for j < len(ps) {
			s := pairSize(ps[j].Name, ps[j].Value)
			if n+s > maxContent {
				break
			}
			n += s
			j++
		}
		if len(buf)+headerLen+n+7 > flushAt && len(buf) > 0 {
			if buf, err = flush(buf); err != nil {
				return buf, err
			}
		}
		buf = appendHeader(buf, typeParams, id, n)
		for ; i < j; i++ {
			buf = appendPair(buf, ps[i].Name, ps[i].Value)
		}
		var zero [8]byte
		buf = append(buf, zero[:padding(n)]...)
	}
	return appendHeader(buf, typeParams, id, 0), nil
}

// readLen decodes one length at s[i:].
func readLen(s string, i int) (n, next int, ok bool) {
	if i >= len(s) {
		return 0, i, false
	}
	if s[i] < 0x80 {
		return int(s[i]), i + 1, true
	}
	if i+4 > len(s) {
		return 0, i, false
	}
	n = int(s[i]&0x7f)<<24 | int(s[i+1])<<16 | int(s[i+2])<<8 | int(s[i+3])
	return n, i + 4, true
}

// decodeParams appends the pairs encoded in s to dst. Names and values are
// substrings of s, so decoding allocates nothing but the slice growth. Pairs
// may have straddled records: s is the concatenated stream.
func decodeParams(dst Params, s string) (Params, error) {
	if dst == nil {
		// Apache sends some 30 pairs: size the slice once.
		dst = make(Params, 0, countPairs(s))
	}
	for i := 0; i < len(s); {
		start := i
		nl, i2, ok := readLen(s, i)
		if !ok {
			return dst, fmt.Errorf("pair at offset %d: name length runs past the end (%d bytes): %w", start, len(s), ErrMalformedParams)
		}
		vl, i3, ok := readLen(s, i2)
		if !ok {
			return dst, fmt.Errorf("pair at offset %d: value length runs past the end (%d bytes): %w", start, len(s), ErrMalformedParams)
		}
		if nl > len(s)-i3 || vl > len(s)-i3-nl {
			return dst, fmt.Errorf("pair at offset %d: name %d + value %d bytes run past the end (%d bytes left): %w",
				start, nl, vl, len(s)-i3, ErrMalformedParams)
		}
		dst = append(dst, Param{Name: s[i3 : i3+nl], Value: s[i3+nl : i3+nl+vl]})
		i = i3 + nl + vl
	}
	return dst, nil
}

// countPairs returns how many pairs s holds, counting up to where it stops
// being well-formed (decodeParams reports that).
func countPairs(s string) int {
	n := 0
	for i := 0; i < len(s); n++ {
		nl, i2, ok := readLen(s, i)
		if !ok {
			break
		}
		vl, i3, ok := readLen(s, i2)
		if !ok || nl > len(s)-i3 || vl > len(s)-i3-nl {
			break
		}
		i = i3 + nl + vl
	}
	return n
}
