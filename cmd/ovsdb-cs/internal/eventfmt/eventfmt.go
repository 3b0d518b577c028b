// Package eventfmt prints what a client-sync session reports (state
// changes, reconnects, row updates, resyncs and recoveries) for the
// ovsdb-cs command's --format=events: one JSON object per line, each with
// "ts" (RFC 3339 with nanoseconds) and "event".
//
// A Printer knows nothing about the cs package: the command translates each
// cs event into one Printer call. Every printed event is stamped with the
// Printer's clock, which tests replace to get byte-stable output.
package eventfmt

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// Recovery describes how monitoring resumed after a reconnect.
type Recovery struct {
	// Duration is the time from leaving the old server to monitoring again.
	Duration time.Duration
	// Remote is the server monitoring resumed on; From the one left
	// ("" when unknown).
	Remote, From string
	// Reason is why the client left From ("" when unknown).
	Reason string
	// Detailed tells whether Attempts, Sweeps and BackoffUsed are known.
	Detailed bool
	// Attempts counts the connection attempts the recovery took.
	Attempts int
	// Sweeps counts the zero-backoff sweeps over the remotes the retry
	// policy started (0 when the recovery began without one).
	Sweeps int
	// BackoffUsed tells whether the client waited a backoff interval.
	BackoffUsed bool
	// Found says how the leader watch found the new leader
	// ("first-reply" or "update"; "" with a failover policy), Watchers how
	// many members answered its watchers, and Suspected whether the old
	// leader had left an echo unanswered first.
	Found     string
	Watchers  int
	Suspected bool
}

// Option configures a Printer.
type Option func(*Printer)

// WithClock sets the clock that stamps events (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(p *Printer) { p.now = now }
}

// Printer writes events to an io.Writer. Its methods are safe
// for concurrent use; each event is written with one Write call. After a
// write error every method returns that error and writes nothing.
type Printer struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
	buf []byte
	err error
}

// New returns a Printer writing events to w.
func New(w io.Writer, opts ...Option) *Printer {
	p := &Printer{w: w, now: time.Now}
	for _, o := range opts {
		o(p)
	}
	return p
}

// State reports a change of the session state (shown upper case) while
// using remote ("" when not connected).
func (p *Printer) State(state, remote string) error {
	state = strings.ToUpper(state)
	return p.emit(func(b []byte, ts time.Time) []byte {
		b = jsonStart(b, ts, "state")
		b = jsonField(b, "state", state)
		if remote != "" {
			b = jsonField(b, "remote", remote)
		}
		return jsonEnd(b)
	})
}

// Reconnect reports that the client left remote, and why.
func (p *Printer) Reconnect(reason, remote string) error {
	return p.emit(func(b []byte, ts time.Time) []byte {
		b = jsonStart(b, ts, "reconnect")
		b = jsonField(b, "reason", reason)
		b = jsonField(b, "remote", remote)
		return jsonEnd(b)
	})
}

// Clear reports that a full resync follows: the rows printed next replace
// the replica's contents.
func (p *Printer) Clear() error {
	return p.emit(func(b []byte, ts time.Time) []byte {
		return jsonEnd(jsonStart(b, ts, "clear"))
	})
}

// Recovered reports that monitoring resumed after a reconnect.
func (p *Printer) Recovered(r Recovery) error {
	return p.emit(func(b []byte, ts time.Time) []byte {
		b = jsonStart(b, ts, "recovered")
		b = append(b, `,"ms":`...)
		b = appendMillis(b, r.Duration)
		b = jsonField(b, "remote", r.Remote)
		if r.From != "" {
			b = jsonField(b, "from", r.From)
		}
		if r.Reason != "" {
			b = jsonField(b, "reason", r.Reason)
		}
		if r.Detailed {
			b = fmt.Appendf(b, `,"attempts":%d,"sweeps":%d,"backoff_used":%t`,
				r.Attempts, r.Sweeps, r.BackoffUsed)
		}
		if r.Found != "" {
			b = jsonField(b, "found", r.Found)
			b = fmt.Appendf(b, `,"watchers":%d,"suspected":%t`, r.Watchers, r.Suspected)
		}
		return jsonEnd(b)
	})
}

// Update reports row changes, one "update" object per change. Nothing is
// written for no changes.
func (p *Printer) Update(changes []monitor.RowChange) error {
	if len(changes) == 0 {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.err
	}
	return p.emit(func(b []byte, ts time.Time) []byte {
		for _, c := range changes {
			b = appendJSONChange(b, ts, c)
		}
		return b
	})
}

// Err returns the first write error, if any.
func (p *Printer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *Printer) emit(f func(b []byte, ts time.Time) []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.buf = f(p.buf[:0], p.now())
	if _, err := p.w.Write(p.buf); err != nil {
		p.err = fmt.Errorf("eventfmt: write: %w", err)
	}
	if cap(p.buf) > 1<<20 {
		p.buf = nil // do not keep a huge update's buffer
	}
	return p.err
}

// appendMillis appends d in milliseconds with at most 3 decimals (the
// resolution is one microsecond).
func appendMillis(b []byte, d time.Duration) []byte {
	us := d.Round(time.Microsecond).Microseconds()
	if us < 0 {
		b = append(b, '-')
		us = -us
	}
	b = fmt.Appendf(b, "%d", us/1000)
	if frac := us % 1000; frac != 0 {
		s := strings.TrimRight(fmt.Sprintf("%03d", frac), "0")
		b = append(b, '.')
		b = append(b, s...)
	}
	return b
}
