package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/rules"
)

// fingerprintKey names lint's fingerprint in SARIF partialFingerprints.
// The version suffix changes if the way it is computed ever changes.
const fingerprintKey = "modphpMigrate/v1"

// fingerprints returns a fingerprint for each diagnostic, in order. It is
// the first 16 bytes, in hex, of the SHA-256 of
//
//	v1 NUL code NUL path NUL line NUL column NUL occurrence
//
// where path is the finding's file in slash form (relative to root, with
// a leading slash, when root is given and the file is under it, so a tree
// checked out in another directory keeps its fingerprints), line and
// column are 0 for a whole file or directory, and occurrence counts
// earlier findings with the same code and position (0 for the first). The
// message is left out, so rewording a message in a later version keeps
// the fingerprint; the line is in, so a finding that moves to another
// line is a new finding. diags must be sorted (rules.Sort).
func fingerprints(diags []rules.Diagnostic, root string) []string {
	absRoot := ""
	if root != "" {
		if r, err := filepath.Abs(root); err == nil {
			absRoot = r
		}
	}
	seen := map[string]int{}
	out := make([]string, len(diags))
	for i, d := range diags {
		key := fmt.Sprintf("v1\x00%s\x00%s\x00%d\x00%d", d.Code, fingerprintPath(d.Pos.File, absRoot), d.Pos.Line, d.Pos.Col)
		n := seen[key]
		seen[key]++
		sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d", key, n))
		out[i] = hex.EncodeToString(sum[:16])
	}
	return out
}

// fingerprintPath is file relative to absRoot ("/etc/apache2/x.conf" for
// ROOT/etc/apache2/x.conf), or file as given when it is not under absRoot.
func fingerprintPath(file, absRoot string) string {
	if absRoot != "" {
		if abs, err := filepath.Abs(file); err == nil {
			if rel, err := filepath.Rel(absRoot, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return "/" + filepath.ToSlash(rel)
			}
		}
	}
	return filepath.ToSlash(file)
}
