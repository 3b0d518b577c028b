package cs

import (
	"errors"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/hunt"
)

func TestNewRejectsLeaderWatchBackoffBelowItsFloor(t *testing.T) {
	// The watch's backoff bounds are honoured or rejected, never silently
	// raised (like WithMaxBackoff, which Run rejects below 1 s).
	_, err := New("Lab", "tcp:127.0.0.1:6641", WithLeaderWatch(hunt.Config{MinBackoff: 2 * time.Second, MaxBackoff: time.Second}))
	if !errors.Is(err, hunt.ErrInvalidConfig) {
		t.Fatalf("New = %v, want an error matching hunt.ErrInvalidConfig", err)
	}
	if _, err := New("Lab", "tcp:127.0.0.1:6641", WithLeaderWatch(hunt.Config{MinBackoff: time.Second, MaxBackoff: 4 * time.Second})); err != nil {
		t.Fatalf("New with a valid watch: %v", err)
	}
}
