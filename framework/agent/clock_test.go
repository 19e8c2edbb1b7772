package agent

import (
	"testing"
	"time"
)

func TestLatenessIsTheTimeoutAProbeLost(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	for _, tc := range []struct {
		name      string
		sent, end time.Duration // after the probe's turn
		want      time.Duration
	}{
		{"punctual", 1 * ms, 1002 * ms, 3 * ms},
		{"first packet late", 300 * ms, 1000 * ms, 300 * ms},
		{"timeout noticed late", 0, 1450 * ms, 450 * ms},
		{"both", 200 * ms, 1100 * ms, 300 * ms},
	} {
		c := clock{start: t0, sent: t0.Add(tc.sent)}
		if got := c.late(time.Second, t0.Add(tc.end)); got != tc.want {
			t.Errorf("%s: late %v, want %v", tc.name, got, tc.want)
		}
	}
	// A probe whose packet never left lost only what the clock saw.
	c := clock{start: t0}
	if got := c.late(time.Second, t0.Add(1200*ms)); got != 200*ms {
		t.Errorf("never sent: late %v, want 200ms", got)
	}
	if LateLimit(time.Second) != 100*ms {
		t.Errorf("LateLimit(1s) = %v, want 100ms", LateLimit(time.Second))
	}
}
