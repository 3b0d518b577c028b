package testserver

import (
	"sync"
	"sync/atomic"
)

// Counters are what one member has seen since the cluster started or since
// the last [Cluster.ResetCounters].
type Counters struct {
	// Accepted counts connections accepted (including ones closed at once
	// by the DropConnections fault).
	Accepted int
	// Refused counts connection attempts refused (in-memory mode only; a
	// real TCP refusal never reaches the member).
	Refused int
	// Requests counts received requests and notifications by method.
	Requests map[string]int
	// BytesSent and BytesReceived count bytes written to and read from
	// clients. A connection's writer counts after each write completes, so
	// under testing/synctest call synctest.Wait() before reading them.
	BytesSent     int64
	BytesReceived int64
}

// counters is the live, concurrency-safe form of Counters.
type counters struct {
	mu       sync.Mutex
	accepted int
	refused  int
	requests map[string]int
	sent     atomic.Int64
	received atomic.Int64
}

func (c *counters) accept() {
	c.mu.Lock()
	c.accepted++
	c.mu.Unlock()
}

func (c *counters) refuse() {
	c.mu.Lock()
	c.refused++
	c.mu.Unlock()
}

func (c *counters) request(method string) {
	c.mu.Lock()
	if c.requests == nil {
		c.requests = map[string]int{}
	}
	c.requests[method]++
	c.mu.Unlock()
}

func (c *counters) snapshot() Counters {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := Counters{Accepted: c.accepted, Refused: c.refused, Requests: map[string]int{},
		BytesSent: c.sent.Load(), BytesReceived: c.received.Load()}
	for k, v := range c.requests {
		out.Requests[k] = v
	}
	return out
}

func (c *counters) reset() {
	c.mu.Lock()
	c.accepted, c.refused, c.requests = 0, 0, nil
	c.sent.Store(0)
	c.received.Store(0)
	c.mu.Unlock()
}
