package testserver

import (
	"time"

	"github.com/go-logr/logr"
)

// Database models a member can report in its _Server Database row.
const (
	ModelClustered  = "clustered"
	ModelStandalone = "standalone"
	ModelRelay      = "relay"
)

// An Option configures [NewCluster].
type Option func(*config)

type config struct {
	inMemory      bool
	unixDir       string
	basePort      int
	log           logr.Logger
	model         string
	memberModel   map[int]string
	cid           string
	memberCID     map[int]string
	electionDelay time.Duration
	echoInterval  time.Duration
	historySize   int
	seed          uint64
	leader        int
	commitTimeout time.Duration
}

func defaultConfig() config {
	return config{
		basePort:    6641,
		log:         logr.Discard(),
		model:       ModelClustered,
		historySize: 100,
		seed:        1,
	}
}

// InMemory makes the members listen nowhere: they get stable fake addresses
// (tcp:127.0.0.1:6641, :6642, ... by default) and are reached through
// [Cluster.DialContext], which hands out in-memory connections. Use it for
// tests under testing/synctest, where real sockets are not allowed.
func InMemory() Option { return func(c *config) { c.inMemory = true } }

// WithUnixSockets makes every member also listen on a unix socket named
// s<i>.sock in dir (member i counts from 1 in the file name). In in-memory
// mode the paths are only names for [Cluster.DialContext].
func WithUnixSockets(dir string) Option { return func(c *config) { c.unixDir = dir } }

// WithBasePort sets the first fake port of an in-memory cluster (default
// 6641); member i gets port+i.
func WithBasePort(port int) Option { return func(c *config) { c.basePort = port } }

// WithLogger sets the logger: V(0) for cluster changes (leader, members
// stopped or started), V(1) for connections and locks, V(2) for every
// message.
func WithLogger(l logr.Logger) Option { return func(c *config) { c.log = l } }

// WithModel sets the model every member reports: ModelClustered (default),
// ModelStandalone or ModelRelay. Standalone databases keep no transaction
// history, so monitor_cond_since always answers found=false with the zero
// UUID, as ovsdb-server does.
func WithModel(model string) Option { return func(c *config) { c.model = model } }

// WithMemberModel overrides the model of one member.
func WithMemberModel(member int, model string) Option {
	return func(c *config) {
		if c.memberModel == nil {
			c.memberModel = map[int]string{}
		}
		c.memberModel[member] = model
	}
}

// WithCID sets the cluster ID every clustered member reports (default: a
// UUID derived from the seed).
func WithCID(cid string) Option { return func(c *config) { c.cid = cid } }

// WithMemberCID makes one member report a different cluster ID.
func WithMemberCID(member int, cid string) Option {
	return func(c *config) {
		if c.memberCID == nil {
			c.memberCID = map[int]string{}
		}
		c.memberCID[member] = cid
	}
}

// WithElectionDelay sets the default window after a leadership change
// (transfer, leader stopped, disconnected or exited) during which no member
// is leader. The default is 0: the new leader takes over at once.
func WithElectionDelay(d time.Duration) Option { return func(c *config) { c.electionDelay = d } }

// WithEchoInterval makes members probe idle clients as ovsdb-server does:
// after d without receiving anything, the member sends
// {"id":"echo","method":"echo","params":[]}; after another d of silence it
// closes the connection. The default is 0 (no probes).
func WithEchoInterval(d time.Duration) Option { return func(c *config) { c.echoInterval = d } }

// WithHistorySize sets how many transactions each member remembers for
// monitor_cond_since (default 100, as ovsdb-server). As in ovsdb-server, a
// member also forgets its oldest transactions while they hold more atoms
// than its database (keeping the newest), so a resume after a large delete
// gets found=false and the whole database.
func WithHistorySize(n int) Option { return func(c *config) { c.historySize = n } }

// WithSeed seeds the generator of every UUID the cluster makes (rows,
// versions, transaction IDs, sids, cid), so runs are reproducible.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithInitialLeader picks the first leader (default member 0).
func WithInitialLeader(member int) Option { return func(c *config) { c.leader = member } }

// WithCommitTimeout bounds how long a transaction that needs a commit waits
// for a reachable leader. The default (0) waits forever, as ovsdb-server
// 3.1 does; when the bound passes, the member answers with the JSON-RPC
// error {"error":"cluster error","details":"not leader"} (the fake's own
// choice: the real server never gives up).
func WithCommitTimeout(d time.Duration) Option { return func(c *config) { c.commitTimeout = d } }
