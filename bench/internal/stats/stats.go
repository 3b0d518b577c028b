// Package stats has the summary figures the benchmark programs print:
// medians, nearest-rank percentiles (the smallest value with at least p % of
// the sample at or below it) and histograms.
//
// One median convention for every program: Median is the middle value of
// the sorted values, or the mean of the two middle values for an even
// count (as benchstat and Python's statistics.median compute it). Other
// percentiles (p90) are nearest rank.
package stats

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of xs:
// the ceil(p/100*n)-th smallest. NaN for no values.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(math.Ceil(p / 100 * float64(len(s))))
	k = min(max(k, 1), len(s))
	return s[k-1]
}

// Median returns the middle value of xs, or the mean of the two middle
// values for an even count; NaN for no values. +Inf (a timeout) sorts last.
func Median(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Max returns the largest of xs (NaN for none).
func Max(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return slices.Max(xs)
}

// Histogram formats counts of integer values as "1: 5, 2: 20".
func Histogram(xs []int) string {
	h := map[int]int{}
	for _, x := range xs {
		h[x]++
	}
	return HistogramOf(h)
}

// HistogramOf formats a value -> count map as "1: 5, 2: 20".
func HistogramOf(h map[int]int) string {
	keys := make([]int, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d: %d", k, h[k]))
	}
	return strings.Join(parts, ", ")
}

// Ms converts a duration to float milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// FmtMs formats milliseconds, "-" for NaN and "timeout" for +Inf.
func FmtMs(x float64) string {
	switch {
	case math.IsNaN(x):
		return "-"
	case math.IsInf(x, 1):
		return "timeout"
	case x >= 100:
		return fmt.Sprintf("%.0f ms", x)
	default:
		return fmt.Sprintf("%.1f ms", x)
	}
}

// Ratio formats a/b as "1.23x" ("-" when undefined).
func Ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) || math.IsInf(b, 0) {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// ParseSizes parses a comma-separated list of positive integers (a --sizes
// flag such as "10000,100000").
func ParseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad size %q in %q", f, s)
		}
		out = append(out, n)
	}
	return out, nil
}
