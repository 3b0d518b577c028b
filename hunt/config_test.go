package hunt

import (
	"errors"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"max at min", Config{MinBackoff: 2 * time.Second, MaxBackoff: 2 * time.Second}, true},
		{"max below min", Config{MinBackoff: 2 * time.Second, MaxBackoff: time.Second}, false},
		{"max below the default min", Config{MaxBackoff: 500 * time.Millisecond}, false},
	} {
		err := tc.cfg.Validate()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
