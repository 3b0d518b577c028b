package clients

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/cache"
	"github.com/ovn-org/libovsdb/client"
	"github.com/ovn-org/libovsdb/model"
)

// LabItem is the libovsdb model of the Lab schema's Item table, with the
// deep-copy and equality methods libovsdb's modelgen would generate (without
// them libovsdb clones models by a JSON round trip, which would be unfair to
// it).
type LabItem struct {
	UUID string `ovsdb:"_uuid"`
	Name string `ovsdb:"name"`
	N    int    `ovsdb:"n"`
	Data string `ovsdb:"data"`
}

// CloneModelInto implements model.CloneableModel.
func (a *LabItem) CloneModelInto(b model.Model) { *b.(*LabItem) = *a }

// CloneModel implements model.CloneableModel.
func (a *LabItem) CloneModel() model.Model { b := *a; return &b }

// EqualsModel implements model.ComparableModel.
func (a *LabItem) EqualsModel(b model.Model) bool { return *a == *b.(*LabItem) }

// Libovsdb is libovsdb v0.7.0's client configured as a leader-only libovsdb
// user typically does it:
// WithEndpoint for every remote, WithLeaderOnly(true),
// WithReconnect(60s, backoff.NewExponentialBackOff()) and MonitorAll.
// Connection attempts are its "trying to connect" log lines (V(3); libovsdb
// has no dialer option), monitoring is Connected() && CurrentEndpoint() != ""
// polled every millisecond, rows come from a cache
// AddFunc handler.
type Libovsdb struct {
	cfg    Config
	rec    *Recorder
	client client.Client
	stop   chan struct{}
	wg     sync.WaitGroup
}

// NewLibovsdb returns a libovsdb client for the Lab database.
func NewLibovsdb(cfg Config) *Libovsdb {
	return &Libovsdb{cfg: cfg, rec: NewRecorder(cfg.WatchPrefix), stop: make(chan struct{})}
}

// Name implements Client.
func (l *Libovsdb) Name() string { return "libovsdb" }

// Recorder implements Client.
func (l *Libovsdb) Recorder() *Recorder { return l.rec }

// Start implements Client: Connect, the cache handler, MonitorAll, then the
// 1 ms poller.
func (l *Libovsdb) Start(ctx context.Context) error {
	dbModel, err := model.NewClientDBModel("Lab", map[string]model.Model{"Item": &LabItem{}})
	if err != nil {
		return err
	}
	logger := logr.New(&attemptSink{rec: l.rec})
	opts := []client.Option{client.WithLeaderOnly(true), client.WithLogger(&logger),
		client.WithReconnect(60*time.Second, backoff.NewExponentialBackOff())}
	for _, r := range strings.Split(l.cfg.Remotes, ",") {
		opts = append(opts, client.WithEndpoint(r))
	}
	c, err := client.NewOVSDBClient(dbModel, opts...)
	if err != nil {
		return err
	}
	l.client = c
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		return fmt.Errorf("libovsdb connect: %w", err)
	}
	if l.rec.Watching() {
		c.Cache().AddEventHandler(&cache.EventHandlerFuncs{
			AddFunc: func(table string, m model.Model) {
				if it, ok := m.(*LabItem); ok {
					l.rec.Row(time.Now(), it.Name)
				}
			},
		})
	}
	if _, err := c.MonitorAll(ctx); err != nil {
		return fmt.Errorf("libovsdb monitor: %w", err)
	}
	l.rec.Monitoring(time.Now(), true, c.CurrentEndpoint())
	l.wg.Add(1)
	go l.poll()
	return nil
}

func (l *Libovsdb) poll() {
	defer l.wg.Done()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		ep := l.client.CurrentEndpoint()
		up := l.client.Connected() && ep != ""
		if up {
			l.rec.Monitoring(time.Now(), true, ep)
		} else {
			_, last := l.rec.Current()
			l.rec.Monitoring(time.Now(), false, last)
		}
	}
}

// Rows implements Client.
func (l *Libovsdb) Rows() int {
	if l.client == nil {
		return 0
	}
	c := l.client.Cache()
	if c == nil {
		return 0
	}
	t := c.Table("Item")
	if t == nil {
		return 0
	}
	return t.Len()
}

// Close implements Client. libovsdb's Close can wait on a connect that is
// stuck (its v0.7.0 deadlock); then the client is abandoned after 5 s.
func (l *Libovsdb) Close() {
	select {
	case <-l.stop:
		return
	default:
	}
	close(l.stop)
	l.wg.Wait()
	if l.client != nil {
		closeWithin(5*time.Second, l.client.Close)
	}
}

// attemptSink is a logr sink that turns libovsdb's "trying to connect" into
// recorded attempts and drops everything else.
type attemptSink struct{ rec *Recorder }

func (s *attemptSink) Init(logr.RuntimeInfo) {}

// Enabled keeps V(3) on: "trying to connect" is logged at V(3).
func (s *attemptSink) Enabled(level int) bool { return level <= 3 }

func (s *attemptSink) Info(_ int, msg string, kv ...any) {
	if msg == "trying to connect" {
		addr := ""
		for i := 0; i+1 < len(kv); i += 2 {
			if k, _ := kv[i].(string); k == "endpoint" {
				addr = fmt.Sprint(kv[i+1])
			}
		}
		s.rec.Attempt(time.Now(), strings.TrimPrefix(addr, "tcp:"))
	}
}

func (s *attemptSink) Error(error, string, ...any)    {}
func (s *attemptSink) WithValues(...any) logr.LogSink { return s }
func (s *attemptSink) WithName(string) logr.LogSink   { return s }
