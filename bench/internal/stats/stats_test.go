package stats

import (
	"math"
	"testing"
)

func TestPercentileNearestRank(t *testing.T) {
	xs := make([]float64, 80)
	for i := range xs {
		xs[i] = float64(80 - i) // 80..1
	}
	tests := []struct {
		p    float64
		want float64
	}{{50, 40}, {90, 72}, {100, 80}, {1, 1}}
	for _, tt := range tests {
		if got := Percentile(xs, tt.p); got != tt.want {
			t.Errorf("Percentile(1..80, %v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := Percentile([]float64{3, math.Inf(1), 1}, 90); !math.IsInf(got, 1) {
		t.Errorf("a timeout (+Inf) must be the p90 of 3 values, got %v", got)
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
}

func TestHistogram(t *testing.T) {
	if got, want := Histogram([]int{2, 1, 2, 5}), "1: 1, 2: 2, 5: 1"; got != want {
		t.Errorf("Histogram = %q, want %q", got, want)
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{1, math.Inf(1), 2}, 2},
		{[]float64{1, math.Inf(1)}, math.Inf(1)},
	} {
		if got := Median(tt.xs); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

func TestParseSizes(t *testing.T) {
	got, err := ParseSizes("10000, 100000")
	if err != nil || len(got) != 2 || got[1] != 100000 {
		t.Errorf("ParseSizes = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "10,x", "-5"} {
		if _, err := ParseSizes(bad); err == nil {
			t.Errorf("ParseSizes(%q): no error", bad)
		}
	}
}
