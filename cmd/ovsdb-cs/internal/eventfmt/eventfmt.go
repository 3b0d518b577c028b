// Package eventfmt prints what a client-sync session reports (state
// changes, reconnects, row updates, resyncs and recoveries) for the
// ovsdb-cs command, either as readable text or as one JSON object per line.
//
// A Printer knows nothing about the cs package: the command translates each
// cs event into one Printer call. Every printed event is stamped with the
// Printer's clock, which tests replace to get byte-stable output.
package eventfmt

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// Format selects how a Printer writes events.
type Format uint8

const (
	// Text is a readable form: one line per session event and, per update,
	// one table per database table like "ovsdb-client monitor" prints.
	Text Format = iota + 1
	// JSON writes one JSON object per line, each with "ts" (RFC 3339 with
	// nanoseconds) and "event".
	JSON
)

// ErrUnknownFormat is returned by ParseFormat for a name it does not know.
var ErrUnknownFormat = errors.New("eventfmt: unknown format")

// ParseFormat returns the format called name ("text" or "json").
func ParseFormat(name string) (Format, error) {
	switch strings.ToLower(name) {
	case "text", "":
		return Text, nil
	case "json":
		return JSON, nil
	}
	return 0, fmt.Errorf("%w %q (want text or json)", ErrUnknownFormat, name)
}

// String returns the format's name as ParseFormat takes it.
func (f Format) String() string {
	switch f {
	case Text:
		return "text"
	case JSON:
		return "json"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

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

// Printer writes events to an io.Writer in one Format. Its methods are safe
// for concurrent use; each event is written with one Write call. After a
// write error every method returns that error and writes nothing.
type Printer struct {
	mu     sync.Mutex
	w      io.Writer
	format Format
	now    func() time.Time
	buf    []byte
	err    error
}

// New returns a Printer writing events to w in format f.
func New(w io.Writer, f Format, opts ...Option) *Printer {
	p := &Printer{w: w, format: f, now: time.Now}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Format returns the printer's format.
func (p *Printer) Format() Format { return p.format }

// State reports a change of the session state (shown upper case) while
// using remote ("" when not connected).
func (p *Printer) State(state, remote string) error {
	state = strings.ToUpper(state)
	return p.emit(func(b []byte, ts time.Time) []byte {
		if p.format == JSON {
			b = jsonStart(b, ts, "state")
			b = jsonField(b, "state", state)
			if remote != "" {
				b = jsonField(b, "remote", remote)
			}
			return jsonEnd(b)
		}
		b = textStart(b, ts, "state")
		b = append(b, state...)
		if remote != "" {
			b = append(b, " remote="...)
			b = append(b, remote...)
		}
		return append(b, '\n')
	})
}

// Reconnect reports that the client left remote, and why.
func (p *Printer) Reconnect(reason, remote string) error {
	return p.emit(func(b []byte, ts time.Time) []byte {
		if p.format == JSON {
			b = jsonStart(b, ts, "reconnect")
			b = jsonField(b, "reason", reason)
			b = jsonField(b, "remote", remote)
			return jsonEnd(b)
		}
		b = textStart(b, ts, "reconnect")
		if remote != "" {
			b = append(b, "from "...)
			b = append(b, remote...)
			b = append(b, ": "...)
		}
		b = append(b, reason...)
		return append(b, '\n')
	})
}

// Clear reports that a full resync follows: the rows printed next replace
// the replica's contents.
func (p *Printer) Clear() error {
	return p.emit(func(b []byte, ts time.Time) []byte {
		if p.format == JSON {
			return jsonEnd(jsonStart(b, ts, "clear"))
		}
		b = textStart(b, ts, "clear")
		return append(b, "full resync, the replica's contents are replaced\n"...)
	})
}

// Recovered reports that monitoring resumed after a reconnect.
func (p *Printer) Recovered(r Recovery) error {
	return p.emit(func(b []byte, ts time.Time) []byte {
		if p.format == JSON {
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
		}
		b = textStart(b, ts, "recovered")
		b = append(b, "in "...)
		b = appendMillis(b, r.Duration)
		b = append(b, " ms on "...)
		b = append(b, r.Remote...)
		if r.From != "" || r.Reason != "" {
			b = append(b, " (left "...)
			if r.From != "" {
				b = append(b, r.From...)
			}
			if r.Reason != "" {
				if r.From != "" {
					b = append(b, ": "...)
				}
				b = append(b, r.Reason...)
			}
			b = append(b, ')')
		}
		if r.Detailed {
			b = fmt.Appendf(b, ", %d attempts, %d sweeps, backoff used: %s",
				r.Attempts, r.Sweeps, yesNo(r.BackoffUsed))
		}
		if r.Found != "" {
			b = fmt.Appendf(b, ", found by %s, %d watchers, leader suspected: %s",
				r.Found, r.Watchers, yesNo(r.Suspected))
		}
		return append(b, '\n')
	})
}

// Update reports row changes: in JSON one "update" object per change,
// in text one table per database table. Nothing is written for no changes.
func (p *Printer) Update(changes []monitor.RowChange) error {
	if len(changes) == 0 {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.err
	}
	return p.emit(func(b []byte, ts time.Time) []byte {
		if p.format == JSON {
			for _, c := range changes {
				b = appendJSONChange(b, ts, c)
			}
			return b
		}
		return appendTextUpdate(b, ts, changes)
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

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
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
