package reconnect

import (
	"testing"
	"time"
)

const ms = time.Millisecond

func TestNextBackoff(t *testing.T) {
	tests := []struct {
		name         string
		cur          time.Duration
		minB, maxB   time.Duration
		free         uint32
		wasConnected bool
		passive      bool
		activeFor    time.Duration
		want         time.Duration
		wantFree     uint32
		wantStep     backoffStep
	}{
		{"first failure starts at min", 0, 1000 * ms, 8000 * ms, 0, false, false, 0, 1000 * ms, 0, stepMin},
		{"doubles", 1000 * ms, 1000 * ms, 8000 * ms, 0, false, false, 0, 2000 * ms, 0, stepDouble},
		{"doubles below half of max", 3999 * ms, 1000 * ms, 8000 * ms, 0, false, false, 0, 7998 * ms, 0, stepDouble},
		{"half of max goes to max", 4000 * ms, 1000 * ms, 8000 * ms, 0, false, false, 0, 8000 * ms, 0, stepMax},
		{"stays at max", 8000 * ms, 1000 * ms, 8000 * ms, 0, false, false, 0, 8000 * ms, 0, stepMax},
		// C computes max/2 on int milliseconds: 8001/2 = 4000, so 4000 is
		// not below it and goes straight to max.
		{"odd max: integer half", 4000 * ms, 1000 * ms, 8001 * ms, 0, false, false, 0, 8001 * ms, 0, stepMax},
		{"odd max: below integer half doubles", 3999 * ms, 1000 * ms, 8001 * ms, 0, false, false, 0, 7998 * ms, 0, stepDouble},
		{"above max after lowering max", 9000 * ms, 1000 * ms, 2000 * ms, 0, false, false, 0, 2000 * ms, 0, stepMax},
		{"min equals max", 0, 5000 * ms, 5000 * ms, 0, false, false, 0, 5000 * ms, 0, stepMin},
		{"min equals max, again", 5000 * ms, 5000 * ms, 5000 * ms, 0, false, false, 0, 5000 * ms, 0, stepMax},

		{"free try", 4000 * ms, 1000 * ms, 8000 * ms, 3, false, false, 0, 0, 2, stepFree},
		{"last free try is not free", 4000 * ms, 1000 * ms, 8000 * ms, 1, false, false, 0, 8000 * ms, 1, stepMax},
		{"free try beats reset", 4000 * ms, 1000 * ms, 8000 * ms, 2, true, false, time.Hour, 0, 1, stepFree},
		{"free try in passive mode", 4000 * ms, 1000 * ms, 8000 * ms, 2, true, true, 0, 0, 1, stepFree},

		{"long connection resets to min", 4000 * ms, 1000 * ms, 8000 * ms, 0, true, false, 4000 * ms, 1000 * ms, 0, stepReset},
		{"short connection doubles", 2000 * ms, 1000 * ms, 8000 * ms, 0, true, false, 1999 * ms, 4000 * ms, 0, stepDouble},
		{"activity before connect", 2000 * ms, 1000 * ms, 8000 * ms, 0, true, false, -500 * ms, 4000 * ms, 0, stepDouble},
		{"zero backoff, zero span resets", 0, 1000 * ms, 8000 * ms, 0, true, false, 0, 1000 * ms, 0, stepReset},
		{"passive connection resets to 0", 8000 * ms, 1000 * ms, 8000 * ms, 0, true, true, 0, 0, 0, stepReset},
		{"passive without connection backs off", 0, 1000 * ms, 8000 * ms, 0, false, true, 0, 1000 * ms, 0, stepMin},
		{"not connected ignores activity", 1000 * ms, 1000 * ms, 8000 * ms, 0, false, false, time.Hour, 2000 * ms, 0, stepDouble},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, free, step := nextBackoff(tt.cur, tt.minB, tt.maxB, tt.free, tt.wasConnected, tt.passive, tt.activeFor)
			if got != tt.want || free != tt.wantFree || step != tt.wantStep {
				t.Errorf("nextBackoff() = %v, %d, %d; want %v, %d, %d", got, free, step, tt.want, tt.wantFree, tt.wantStep)
			}
		})
	}
}

func TestBackoffSequence(t *testing.T) {
	tests := []struct {
		minB, maxB time.Duration
		want       []time.Duration
	}{
		{1000 * ms, 8000 * ms, []time.Duration{1000 * ms, 2000 * ms, 4000 * ms, 8000 * ms, 8000 * ms}},
		{1000 * ms, 5000 * ms, []time.Duration{1000 * ms, 2000 * ms, 4000 * ms, 5000 * ms, 5000 * ms}},
		{1500 * ms, 30000 * ms, []time.Duration{1500 * ms, 3000 * ms, 6000 * ms, 12000 * ms, 24000 * ms, 30000 * ms}},
		{3000 * ms, 3000 * ms, []time.Duration{3000 * ms, 3000 * ms}},
	}
	for _, tt := range tests {
		var cur time.Duration
		for i, want := range tt.want {
			cur, _, _ = nextBackoff(cur, tt.minB, tt.maxB, 0, false, false, 0)
			if cur != want {
				t.Errorf("min %v max %v: failure %d: backoff %v, want %v", tt.minB, tt.maxB, i+1, cur, want)
			}
		}
	}
}

func TestClampBackoff(t *testing.T) {
	tests := []struct {
		minArg, maxArg time.Duration
		wantMin        time.Duration
		wantMax        time.Duration
	}{
		{0, 0, 1000 * ms, 8000 * ms},
		{500 * ms, 500 * ms, 1000 * ms, 1000 * ms},
		{2000 * ms, 0, 2000 * ms, 8000 * ms},
		{10000 * ms, 0, 10000 * ms, 10000 * ms},
		{3000 * ms, 2000 * ms, 3000 * ms, 3000 * ms},
		{-5 * time.Second, -5 * time.Second, 1000 * ms, 1000 * ms},
		{1500*ms + 999*time.Microsecond, 9000*ms + time.Nanosecond, 1500 * ms, 9000 * ms},
		{0, 500 * time.Microsecond, 1000 * ms, 8000 * ms}, // truncates to 0: the default
		{time.Duration(1<<31-1) * ms, time.Duration(1<<31-1) * ms, time.Duration(1<<31-1) * ms, time.Duration(1<<31-1) * ms},
	}
	for _, tt := range tests {
		gotMin, gotMax := clampBackoff(tt.minArg, tt.maxArg)
		if gotMin != tt.wantMin || gotMax != tt.wantMax {
			t.Errorf("clampBackoff(%v, %v) = %v, %v; want %v, %v", tt.minArg, tt.maxArg, gotMin, gotMax, tt.wantMin, tt.wantMax)
		}
	}
}

func TestClampProbeInterval(t *testing.T) {
	tests := []struct{ in, want time.Duration }{
		{0, 0},
		{1, 0}, // below a millisecond: truncated to 0, probes off
		{time.Millisecond, 1000 * ms},
		{999 * ms, 1000 * ms},
		{1000 * ms, 1000 * ms},
		{5000 * ms, 5000 * ms},
		{-3 * time.Second, 1000 * ms},
		{90*time.Second + 500*time.Microsecond, 90 * time.Second},
	}
	for _, tt := range tests {
		if got := clampProbeInterval(tt.in); got != tt.want {
			t.Errorf("clampProbeInterval(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
