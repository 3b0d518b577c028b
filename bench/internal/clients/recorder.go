// Package clients wraps the clients the benchmark programs compare (ovsdbcs's
// cs.Client and libovsdb v0.7.0's client) behind one small interface, and
// records what each does with timestamps: connection attempts, when it was
// monitoring which remote, and when rows appeared.
package clients

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Client is one client under test, monitoring the Lab database's Item table
// on a cluster, leader-only.
type Client interface {
	// Name is "ovsdbcs" or "libovsdb".
	Name() string
	// Start creates the client and starts it; the client runs until Close
	// or until ctx ends. ovsdbcs returns at once (Run goes on in the
	// background); libovsdb returns after Connect and MonitorAll (bounded
	// by 30 s), as its users do.
	Start(ctx context.Context) error
	// Rows is the number of Item rows in the replica (cache).
	Rows() int
	// Recorder has what the client did, with timestamps.
	Recorder() *Recorder
	// Close stops the client. It gives up waiting after a few seconds (a
	// hung client is left behind rather than hanging the benchmark).
	Close()
}

// Config is what every client is given.
type Config struct {
	// Remotes is "tcp:127.0.0.1:P1,tcp:...".
	Remotes string
	// WatchPrefix: Item rows inserted with a name starting with it are
	// recorded with the time they appeared. "" records none (and costs
	// nothing per row).
	WatchPrefix string
}

// Transition is a change of the client's monitoring status.
type Transition struct {
	T      time.Time
	Up     bool   // monitoring (connected, monitors in place)
	Remote string // the remote it is monitoring (or the one it left)
}

// Recovery is what ovsdbcs says about one recovery (its Recovered event).
type Recovery struct {
	At          time.Time
	Duration    time.Duration
	Attempts    int
	Sweeps      int
	BackoffUsed bool
	From        string
	Remote      string
	Reason      string
}

// Recorder keeps a client's timestamped history. Safe for concurrent use.
type Recorder struct {
	prefix string

	mu          sync.Mutex
	attempts    []attempt
	transitions []Transition
	rows        map[string]time.Time
	lastRow     time.Time
	nrows       int
	recoveries  []Recovery
}

// NewRecorder returns a recorder that records rows whose name starts with
// prefix ("" records none).
func NewRecorder(prefix string) *Recorder {
	return &Recorder{prefix: prefix, rows: make(map[string]time.Time)}
}

// Watching reports whether rows are recorded.
func (r *Recorder) Watching() bool { return r.prefix != "" }

type attempt struct {
	t    time.Time
	addr string
}

// Attempt records a connection attempt to addr starting at t.
func (r *Recorder) Attempt(t time.Time, addr string) {
	r.mu.Lock()
	r.attempts = append(r.attempts, attempt{t, addr})
	r.mu.Unlock()
}

// Monitoring records that the client started (up) or stopped monitoring
// remote. Repeats of the current status are ignored.
func (r *Recorder) Monitoring(t time.Time, up bool, remote string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.transitions); n > 0 {
		last := r.transitions[n-1]
		if last.Up == up && (!up || last.Remote == remote) {
			return
		}
	}
	r.transitions = append(r.transitions, Transition{T: t, Up: up, Remote: remote})
}

// Row records that a row named name was inserted into the replica.
func (r *Recorder) Row(t time.Time, name string) {
	if r.prefix == "" || !strings.HasPrefix(name, r.prefix) {
		return
	}
	r.mu.Lock()
	if _, ok := r.rows[name]; !ok {
		r.rows[name] = t
		r.nrows++
		r.lastRow = t
	}
	r.mu.Unlock()
}

// Recovered records an ovsdbcs Recovered event.
func (r *Recorder) Recovered(rec Recovery) {
	r.mu.Lock()
	r.recoveries = append(r.recoveries, rec)
	r.mu.Unlock()
}

// AttemptsIn counts the attempts started in (from, to].
func (r *Recorder) AttemptsIn(from, to time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, a := range r.attempts {
		if a.t.After(from) && !a.t.After(to) {
			n++
		}
	}
	return n
}

// MaxPerAddrIn returns the largest number of attempts to one address in
// (from, to].
func (r *Recorder) MaxPerAddrIn(from, to time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	per := map[string]int{}
	m := 0
	for _, a := range r.attempts {
		if a.t.After(from) && !a.t.After(to) {
			per[a.addr]++
			m = max(m, per[a.addr])
		}
	}
	return m
}

// TotalAttempts is the number of attempts recorded.
func (r *Recorder) TotalAttempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.attempts)
}

// UpAfter returns the time of the first transition after t0 to monitoring
// remote ("" = any remote).
func (r *Recorder) UpAfter(t0 time.Time, remote string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, tr := range r.transitions {
		if tr.Up && tr.T.After(t0) && (remote == "" || tr.Remote == remote) {
			return tr.T, true
		}
	}
	return time.Time{}, false
}

// DownAfter returns the time of the first transition after t0 out of
// monitoring.
func (r *Recorder) DownAfter(t0 time.Time) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, tr := range r.transitions {
		if !tr.Up && tr.T.After(t0) {
			return tr.T, true
		}
	}
	return time.Time{}, false
}

// Current returns the latest monitoring status.
func (r *Recorder) Current() (up bool, remote string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.transitions); n > 0 {
		return r.transitions[n-1].Up, r.transitions[n-1].Remote
	}
	return false, ""
}

// RowTime returns when the row named name appeared.
func (r *Recorder) RowTime(name string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.rows[name]
	return t, ok
}

// RowCount returns how many watched rows appeared and when the last did.
func (r *Recorder) RowCount() (int, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nrows, r.lastRow
}

// RecoveriesAfter returns the ovsdbcs recoveries reported after t0.
func (r *Recorder) RecoveriesAfter(t0 time.Time) []Recovery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Recovery
	for _, rec := range r.recoveries {
		if rec.At.After(t0) {
			out = append(out, rec)
		}
	}
	return out
}

// closeWithin runs stop and waits at most d for it.
func closeWithin(d time.Duration, stop func()) bool {
	done := make(chan struct{})
	go func() { stop(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
