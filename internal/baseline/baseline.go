// Package baseline reads and writes lint baselines: the findings of a
// tree recorded by fingerprint (lint --write-baseline), so that a later run
// (lint --baseline) reports only findings that are not in it.
//
// A baseline is a JSON object:
//
//	{
//	  "version": 1,
//	  "findings": [
//	    {"fingerprint": "…32 hex digits…", "code": "MPM1004", "file": "/etc/apache2/sites/a.conf", "line": 3, "message": "…"}
//	  ]
//	}
//
// Only the fingerprint matches; code, file, line and message are there
// for people reviewing the file.
package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Version is the version of the format Write writes and Parse reads.
const Version = 1

// maxSize bounds what Load reads: 64 MB is about 200,000 findings.
const maxSize = 64 << 20

// Entry is one recorded finding.
type Entry struct {
	Fingerprint string `json:"fingerprint"`
	Code        string `json:"code"`
	File        string `json:"file"`
	Line        int    `json:"line"`
	Message     string `json:"message"`
}

type file struct {
	Version  *int    `json:"version"`
	Findings []Entry `json:"findings"`
}

// Write writes a baseline of entries, in their order.
func Write(w io.Writer, entries []Entry) error {
	if entries == nil {
		entries = []Entry{}
	}
	v := Version
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(file{Version: &v, Findings: entries}); err != nil {
		return fmt.Errorf("writing baseline: %w", err)
	}
	return nil
}

// Load reads the baseline at path.
func Load(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading baseline: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading baseline %s: %w", path, err)
	}
	if len(data) > maxSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxSize)
	}
	return Parse(path, data)
}

// Parse parses data, a baseline read from name (which names it in
// errors). Unknown keys, a version other than Version, and a fingerprint
// that is not 32 lowercase hex digits are errors, given as name:line.
func Parse(name string, data []byte) ([]Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %s", at(name, data, dec.InputOffset(), err), describe(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: data after the baseline object", at(name, data, dec.InputOffset(), nil))
	}
	if f.Version == nil || *f.Version != Version {
		return nil, fmt.Errorf("%s: not a version %d baseline (write it again with lint --write-baseline)", name, Version)
	}
	for i, e := range f.Findings {
		if !isFingerprint(e.Fingerprint) {
			return nil, fmt.Errorf("%s: findings[%d]: fingerprint %q is not 32 lowercase hex digits", name, i, e.Fingerprint)
		}
	}
	return f.Findings, nil
}

// at is name:line for the error's offset in data (the decoder's offset
// when the error has none).
func at(name string, data []byte, off int64, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		off = int64(len(data))
	case err != nil && strings.HasPrefix(err.Error(), "json: unknown field "):
		// The decoder reports no offset for an unknown key: find it.
		if i := bytes.Index(data, []byte(strings.TrimPrefix(err.Error(), "json: unknown field "))); i >= 0 {
			off = int64(i)
		}
	}
	off = min(max(off, 0), int64(len(data)))
	return fmt.Sprintf("%s:%d", name, bytes.Count(data[:off], []byte("\n"))+1)
}

func describe(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of the baseline"
	}
	return err.Error()
}

func isFingerprint(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Set is a baseline for matching findings.
type Set struct {
	left map[string]int
}

// NewSet returns a Set of the entries' fingerprints.
func NewSet(entries []Entry) *Set {
	s := &Set{left: map[string]int{}}
	for _, e := range entries {
		s.left[e.Fingerprint]++
	}
	return s
}

// Match reports whether fingerprint is in the baseline, and uses up one
// entry with it.
func (s *Set) Match(fingerprint string) bool {
	if s.left[fingerprint] == 0 {
		return false
	}
	s.left[fingerprint]--
	return true
}

// Unmatched is how many entries no finding matched so far.
func (s *Set) Unmatched() int {
	n := 0
	for _, c := range s.left {
		n += c
	}
	return n
}
