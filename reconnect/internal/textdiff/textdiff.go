// Package textdiff renders a line-based unified diff, for golden-file test
// failures that a person has to read.
package textdiff

import (
	"fmt"
	"strings"
)

// context is the number of unchanged lines shown around each change.
const context = 3

// Unified returns a unified diff ("--- a", "+++ b", "@@" hunks) that turns
// want into got, or "" if they are equal. Lines are compared exactly;
// a missing final newline shows as "\ No newline at end of file".
func Unified(wantName, gotName, want, got string) string {
	if want == got {
		return ""
	}
	a, b := splitLines(want), splitLines(got)
	ops := diffLines(a, b)

	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", wantName, gotName)
	for i := 0; i < len(ops); {
		// Find the next change.
		for i < len(ops) && ops[i].kind == ' ' {
			i++
		}
		if i == len(ops) {
			break
		}
		start := max(i-context, 0)
		// Extend the hunk while changes are within 2*context lines.
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				end = min(end+context, len(ops))
				break
			}
			end = run
		}
		writeHunk(&sb, ops, start, end)
		i = end
	}
	return sb.String()
}

type op struct {
	kind       byte // ' ', '-', '+'
	line       string
	aIdx, bIdx int // 0-based line numbers the op starts at in a and b
}

func writeHunk(sb *strings.Builder, ops []op, start, end int) {
	var aLen, bLen int
	for _, o := range ops[start:end] {
		if o.kind != '+' {
			aLen++
		}
		if o.kind != '-' {
			bLen++
		}
	}
	aStart, bStart := ops[start].aIdx+1, ops[start].bIdx+1
	if aLen == 0 {
		aStart--
	}
	if bLen == 0 {
		bStart--
	}
	fmt.Fprintf(sb, "@@ -%d,%d +%d,%d @@\n", aStart, aLen, bStart, bLen)
	for _, o := range ops[start:end] {
		sb.WriteByte(o.kind)
		if l, ok := strings.CutSuffix(o.line, "\n"); ok {
			sb.WriteString(l)
			sb.WriteByte('\n')
		} else {
			sb.WriteString(o.line)
			sb.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// splitLines splits s after each newline, keeping the newlines; a last
// line without one is kept as it is.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// diffLines returns an edit script from a to b that keeps a longest common
// subsequence of lines. Deletions come before insertions within a change.
func diffLines(a, b []string) []op {
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []op
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, op{' ', a[i], i, j})
			i++
			j++
		case j == len(b) || (i < len(a) && lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', a[i], i, j})
			i++
		default:
			ops = append(ops, op{'+', b[j], i, j})
			j++
		}
	}
	return ops
}
