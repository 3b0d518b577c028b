package clients

// This is the only file that uses the cs API, so that a change of that API
// is fixed here and nowhere else.

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// Ours is ovsdbcs's cs.Client, leader-only, monitoring every table of the
// database (as libovsdb's MonitorAll does), with a dialer that records each
// connection attempt. Events are read on a goroutine of its own: StateChange
// and Reconnect give the monitoring transitions, Update the inserted rows,
// Recovered the client's own account of a recovery.
type Ours struct {
	cfg    Config
	rec    *Recorder
	dial   func(ctx context.Context, network, address string) (net.Conn, error)
	quiet  bool
	ovs    bool
	ea     bool
	logger *logr.Logger
	client *cs.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// OursOption configures NewOurs.
type OursOption func(*Ours)

// OursDialer makes the client connect through dial (e.g. the fake cluster's
// DialContext); attempts are still recorded.
func OursDialer(dial func(ctx context.Context, network, address string) (net.Conn, error)) OursOption {
	return func(o *Ours) { o.dial = dial }
}

// OursQuiet turns the client's events off (cs.WithEventBuffer(-1)): nothing
// is recorded but attempts; use Status and LastRecovery instead. For herds.
func OursQuiet() OursOption { return func(o *Ours) { o.quiet = true } }

// OursOVSPolicy selects Open vSwitch's exact retry rule
// (cs.WithFailoverPolicy(failover.Config{Mode: failover.OVS})) instead of
// the default leader watch; the client is then named "ovsdbcs-ovs".
func OursOVSPolicy() OursOption { return func(o *Ours) { o.ovs = true } }

// OursElectionAware selects the election-aware failover policy
// (cs.WithFailoverPolicy(failover.Config{})) instead of the default leader
// watch; the client is then named "ovsdbcs-ea".
func OursElectionAware() OursOption { return func(o *Ours) { o.ea = true } }

// OursLogger sends the client's logs to l (cs.WithLogger).
func OursLogger(l logr.Logger) OursOption { return func(o *Ours) { o.logger = &l } }

// NewOurs returns an ovsdbcs client for the Lab database.
func NewOurs(cfg Config, opts ...OursOption) *Ours {
	o := &Ours{cfg: cfg, rec: NewRecorder(cfg.WatchPrefix)}
	var d net.Dialer
	o.dial = d.DialContext
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// Name implements Client: "ovsdbcs" (default policy), "ovsdbcs-ovs" or
// "ovsdbcs-ea".
func (o *Ours) Name() string {
	switch {
	case o.ovs:
		return "ovsdbcs-ovs"
	case o.ea:
		return "ovsdbcs-ea"
	}
	return "ovsdbcs"
}

// Recorder implements Client.
func (o *Ours) Recorder() *Recorder { return o.rec }

// Start implements Client: it returns once Run is running.
func (o *Ours) Start(ctx context.Context) error {
	dial := o.dial
	opts := []cs.Option{
		cs.WithLeaderOnly(true),
		cs.WithDialer(func(ctx context.Context, network, address string) (net.Conn, error) {
			o.rec.Attempt(time.Now(), address)
			return dial(ctx, network, address)
		}),
	}
	if o.logger != nil {
		opts = append(opts, cs.WithLogger(*o.logger))
	}
	switch {
	case o.ovs:
		opts = append(opts, cs.WithFailoverPolicy(failover.Config{Mode: failover.OVS}))
	case o.ea:
		opts = append(opts, cs.WithFailoverPolicy(failover.Config{}))
	}
	if o.quiet {
		opts = append(opts, cs.WithEventBuffer(-1))
	} else {
		opts = append(opts, cs.WithEventBuffer(1024))
	}
	c, err := cs.New("Lab", o.cfg.Remotes, opts...)
	if err != nil {
		return err
	}
	o.client = c
	ctx, o.cancel = context.WithCancel(ctx)
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		_ = c.Run(ctx)
	}()
	if !o.quiet {
		o.wg.Add(1)
		go func() {
			defer o.wg.Done()
			o.readEvents(c.Events())
		}()
	}
	return nil
}

func (o *Ours) readEvents(events <-chan cs.Event) {
	for ev := range events {
		now := time.Now()
		switch ev := ev.(type) {
		case cs.StateChange:
			if ev.To == cs.Monitoring {
				o.rec.Monitoring(now, true, ev.Remote)
			} else if ev.From == cs.Monitoring {
				o.rec.Monitoring(now, false, ev.Remote)
			}
		case cs.Reconnect:
			o.rec.Monitoring(now, false, ev.Remote)
		case cs.Recovered:
			o.rec.Recovered(Recovery{At: now, Duration: ev.Duration, Attempts: ev.Attempts, Sweeps: ev.Sweeps,
				BackoffUsed: ev.BackoffUsed, From: ev.From, Remote: ev.Remote, Reason: ev.Reason})
		case cs.Update:
			if !o.rec.Watching() {
				continue
			}
			for ch := range ev.Changes.All() {
				if ch.Table == "Item" && ch.Op == monitor.ChangeInsert {
					o.rec.Row(now, ch.New.Get("name").Str())
				}
			}
		}
	}
}

// Rows implements Client.
func (o *Ours) Rows() int {
	if o.client == nil {
		return 0
	}
	r := o.client.Replica()
	if r == nil {
		return 0
	}
	return r.Len("Item")
}

// Status returns whether the client is MONITORING and the remote in use.
func (o *Ours) Status() (monitoring bool, remote string) {
	if o.client == nil || o.client.State() != cs.Monitoring {
		return false, ""
	}
	st := o.client.Stats()
	return st.State == cs.Monitoring, st.Remote
}

// LastRecovery returns the client's latest recovery (from Stats), if any.
func (o *Ours) LastRecovery() (Recovery, bool) {
	if o.client == nil {
		return Recovery{}, false
	}
	rs := o.client.Stats().Recoveries
	if len(rs) == 0 {
		return Recovery{}, false
	}
	r := rs[len(rs)-1]
	return Recovery{At: r.Left.Add(r.Duration), Duration: r.Duration, Attempts: r.Attempts, Sweeps: r.Sweeps,
		BackoffUsed: r.BackoffUsed, From: r.From, Remote: r.Remote, Reason: r.Reason}, true
}

// Close implements Client.
func (o *Ours) Close() {
	if o.cancel == nil {
		return
	}
	o.cancel()
	closeWithin(10*time.Second, o.wg.Wait)
}
