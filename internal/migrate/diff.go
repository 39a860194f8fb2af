package migrate

import (
	"fmt"
	"strings"
)

// maxDiffCells bounds the LCS table; larger files are shown replaced
// whole.
const maxDiffCells = 16 << 20

// UnifiedDiff returns a unified diff (3 lines of context) from a to b,
// labelled with the two names; "" when they are equal.
func UnifiedDiff(nameA, nameB, a, b string) string {
	if a == b {
		return ""
	}
	x, y := splitLines(a), splitLines(b)
	ops := diffOps(x, y)
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", nameA, nameB)
	const ctx = 3
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-ctx, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			j := end
			for j < len(ops) && ops[j].kind == ' ' {
				j++
			}
			if j == len(ops) || j-end > 2*ctx {
				end = min(end+ctx, len(ops))
				break
			}
			end = j
		}
		writeHunk(&sb, ops[start:end])
		i = end
	}
	return sb.String()
}

type diffOp struct {
	kind       byte // ' ', '-', '+'
	line       string
	aNum, bNum int // 1-based line numbers before the op
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	ls := strings.SplitAfter(s, "\n")
	if ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	}
	return ls
}

// diffOps computes an edit script by longest common subsequence.
func diffOps(x, y []string) []diffOp {
	n, m := len(x), len(y)
	var ops []diffOp
	if n*m > maxDiffCells {
		for i, l := range x {
			ops = append(ops, diffOp{'-', l, i + 1, 1})
		}
		for j, l := range y {
			ops = append(ops, diffOp{'+', l, n + 1, j + 1})
		}
		return ops
	}
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			ops = append(ops, diffOp{' ', x[i], i + 1, j + 1})
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, diffOp{'+', y[j], i + 1, j + 1})
			j++
		default:
			ops = append(ops, diffOp{'-', x[i], i + 1, j + 1})
			i++
		}
	}
	return ops
}

func writeHunk(sb *strings.Builder, ops []diffOp) {
	aStart, bStart := ops[0].aNum, ops[0].bNum
	aLen, bLen := 0, 0
	for _, o := range ops {
		if o.kind != '+' {
			aLen++
		}
		if o.kind != '-' {
			bLen++
		}
	}
	if aLen == 0 {
		aStart--
	}
	if bLen == 0 {
		bStart--
	}
	fmt.Fprintf(sb, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
	for _, o := range ops {
		sb.WriteByte(o.kind)
		sb.WriteString(o.line)
		if !strings.HasSuffix(o.line, "\n") {
			sb.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

func hunkRange(start, n int) string {
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// Diff renders every change of the plan as one unified diff: created
// files against /dev/null, symlinks and removals as header lines.
func (p *Plan) Diff() string {
	var sb strings.Builder
	for _, f := range p.Changed() {
		switch f.Action {
		case "symlink":
			fmt.Fprintf(&sb, "symlink %s -> %s\n", f.Path, f.Link)
		case "remove":
			fmt.Fprintf(&sb, "remove %s\n", f.Path)
		case "create":
			sb.WriteString(UnifiedDiff("/dev/null", f.Path, "", f.After))
		default:
			if f.Via != "" && f.Before != f.After {
				fmt.Fprintf(&sb, "# %s is a symbolic link to %s: the change is made there\n", f.Via, f.Path)
			}
			sb.WriteString(UnifiedDiff(f.Path, f.Path, f.Before, f.After))
		}
	}
	return sb.String()
}
