package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/cmd/ovsdb-cs/internal/ovstable"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// defaultServer is ovsdb-client's default SERVER: the Open vSwitch
// database socket (unix:$OVS_RUNDIR/db.sock).
const defaultServer = "unix:/var/run/openvswitch/db.sock"

// defaultDatabase is the database ovsdb-client picks when none is named and
// the server has it.
const defaultDatabase = "Open_vSwitch"

// looksLikeServer reports whether arg names a SERVER: like ovsdb-client's
// open_rpc (ovsdb/ovsdb-client.c), an argument that starts with a letter
// and holds a colon ("tcp:...", "unix:...", a comma-separated list).
func looksLikeServer(arg string) bool {
	return arg != "" && (arg[0] >= 'a' && arg[0] <= 'z' || arg[0] >= 'A' && arg[0] <= 'Z') &&
		strings.Contains(arg, ":")
}

// target is the SERVER and DATABASE a command works on, with the schema the
// server gave for it.
type target struct {
	remotes  string
	name     string // the remote that answered the schema requests
	database string
	dbs      []string // every database the server has, sorted
	schema   *ovsdb.DatabaseSchema
	raw      json.RawMessage // the get_schema reply, for the server's key order
}

// serverArgs resolves the optional [SERVER] [DATABASE] at the head of args
// as ovsdb-client's open_rpc does, and returns the target and the
// arguments left. minArgs is how many arguments the command needs after
// them. With needDB false only SERVER is resolved.
//
// DATABASE is taken when the next argument names a database of the server
// (and more than minArgs arguments remain); otherwise, with one remote,
// Open_vSwitch if the server has it, else its only database (those whose
// name starts with "_" do not count); with several remotes it must be
// given, and an unknown name is an error naming the closest database.
//
// The first remote that answers is asked; while none does, serverArgs
// keeps trying (see askServer) until ctx ends.
func (c *common) serverArgs(ctx context.Context, args []string, minArgs int, needDB bool) (*target, []string, error) {
	t := &target{remotes: defaultServer}
	if len(args) > minArgs && looksLikeServer(args[0]) {
		t.remotes, args = args[0], args[1:]
	}
	rs, _, err := jsonrpc.ParseRemotes(t.remotes)
	if err != nil {
		return nil, nil, usageErrorf("SERVER: %v", err)
	}
	if err := c.checkTLS(rs); err != nil {
		return nil, nil, err
	}
	for _, r := range rs {
		if r.IsPassive() {
			return nil, nil, usageErrorf("SERVER: passive remote %s is not supported", r)
		}
	}
	var rest []string
	err = c.askServer(ctx, t.remotes, rs, func(ctx context.Context, conn *jsonrpc.Conn) error {
		var err error
		rest, err = t.resolve(ctx, conn, args, minArgs, needDB, len(rs) > 1)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return t, rest, nil
}

// resolve asks the server on conn for its databases and, with needDB, for
// the schema of the database args name (see serverArgs), and returns the
// arguments left. An error matching errNoAnswer means the server did not
// answer; any other error is final.
func (t *target) resolve(ctx context.Context, conn *jsonrpc.Conn, args []string, minArgs int, needDB, multi bool) ([]string, error) {
	t.name = conn.Name()
	res, err := callTimeout(ctx, conn, "list_dbs")
	if err != nil {
		return nil, fmt.Errorf("%s: list_dbs: %w", t.name, err)
	}
	if err := json.Unmarshal(res, &t.dbs); err != nil {
		return nil, fmt.Errorf("%s: list_dbs response is not an array of strings", t.name)
	}
	slices.Sort(t.dbs)
	if !needDB {
		return args, nil
	}
	switch {
	case len(args) > minArgs && slices.Contains(t.dbs, args[0]):
		t.database, args = args[0], args[1:]
	case multi && len(args) > minArgs:
		return nil, fmt.Errorf("%s: no database named %q%s", t.remotes, args[0], didYouMean(args[0], t.dbs))
	case multi:
		return nil, errors.New("database name is required with multiple remotes")
	case slices.Contains(t.dbs, defaultDatabase):
		t.database = defaultDatabase
	default:
		var user []string
		for _, d := range t.dbs {
			if !strings.HasPrefix(d, "_") {
				user = append(user, d)
			}
		}
		if len(user) != 1 {
			return nil, errors.New("could not find a default database, please specify a database name")
		}
		t.database = user[0]
	}
	raw, err := callTimeout(ctx, conn, "get_schema", t.database)
	if err != nil {
		return nil, fmt.Errorf("%s: get_schema %s: %w", t.name, t.database, err)
	}
	t.raw = raw
	if t.schema, err = monitor.ParseDatabaseSchema(raw); err != nil {
		return nil, fmt.Errorf("%s: schema of %s: %w", t.name, t.database, err)
	}
	return args, nil
}

// checkTLS checks that ssl: remotes come with the key, certificate and CA
// flags, and that those flags come with ssl: remotes.
func (c *common) checkTLS(rs []jsonrpc.Remote) error {
	hasSSL := slices.ContainsFunc(rs, func(r jsonrpc.Remote) bool { return r.IsTLS() })
	tlsGiven := c.privateKey != "" || c.certificate != "" || c.caCert != ""
	if hasSSL && (c.privateKey == "" || c.certificate == "" || c.caCert == "") {
		return usageErrorf("ssl: remotes need --private-key, --certificate and --ca-cert")
	}
	if tlsGiven && !hasSSL {
		return usageErrorf("--private-key, --certificate and --ca-cert apply only to ssl: remotes")
	}
	if hasSSL && c.tls == nil {
		tc, err := loadTLS(c.privateKey, c.certificate, c.caCert)
		if err != nil {
			return err
		}
		c.tls = tc
	}
	return nil
}

// rpcTimeout bounds each request of the schema requests: a server that
// does not answer by then is left for the next remote.
const rpcTimeout = 10 * time.Second

// errNoAnswer marks a request the server did not answer: the connection
// was lost, or rpcTimeout passed. A server's error reply is an answer.
var errNoAnswer = errors.New("no answer")

// callTimeout calls method on conn, giving up after rpcTimeout. An error
// other than the server's error reply (*jsonrpc.ServerError) or the end of
// ctx matches errNoAnswer.
func callTimeout(ctx context.Context, conn *jsonrpc.Conn, method string, params ...any) (json.RawMessage, error) {
	cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	res, err := conn.Call(cctx, method, params...)
	var se *jsonrpc.ServerError
	if err != nil && !errors.As(err, &se) && ctx.Err() == nil {
		err = fmt.Errorf("%w: %w", errNoAnswer, err)
	}
	return res, err
}

// askServer calls ask with a connection to one of rs (remotes, as given),
// trying them in the order given and, when none can be reached, again and
// again with the session's backoff (1 s doubling to --max-backoff), as the
// leader-following commands do once they run: an operator may start the
// command during an outage. While no server is reachable, the wait before
// the next attempt goes to stderr whenever it changes. A server that does
// not answer ask (errNoAnswer) is left for the next one; any other result
// of ask is returned. When ctx ends first, the error names the remotes and
// the last failure (and matches errTimeout after --timeout).
func (c *common) askServer(ctx context.Context, remotes string, rs []jsonrpc.Remote, ask func(context.Context, *jsonrpc.Conn) error) error {
	var (
		mu       sync.Mutex
		lastErr  error
		lastWait time.Duration
	)
	setLast := func(err error) {
		mu.Lock()
		lastErr = err
		mu.Unlock()
	}
	sess, err := jsonrpc.NewSession(rs, jsonrpc.SessionConfig{
		KeepOrder:     true,
		MaxBackoff:    c.maxBackoff,
		ProbeInterval: c.probeInterval,
		TLSConfig:     c.tls,
		Logger:        logger(c.e.stderr, c.verbose).WithName("jsonrpc"),
		Observer: func(o jsonrpc.Observation) {
			switch o.Kind {
			case jsonrpc.ObserveConnectFailed, jsonrpc.ObserveDisconnected:
				if o.Err != nil && !errors.Is(o.Err, jsonrpc.ErrClosed) { // not our own close below
					setLast(o.Err)
				}
			case jsonrpc.ObserveBackoff:
				if o.Backoff > 0 && o.Backoff != lastWait {
					lastWait = o.Backoff
					c.e.progressf("no server reachable yet, retrying in %s s", fmtSeconds(o.Backoff))
				}
			}
		},
	})
	if err != nil {
		return err
	}
	defer sess.Close()
	gaveUp := func(err error) error {
		mu.Lock()
		last := lastErr
		mu.Unlock()
		if c.timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = errTimeout
		}
		err = fmt.Errorf("%w: no server of %s answered", err, remotes)
		if last != nil {
			err = fmt.Errorf("%w; last error: %v", err, last)
		}
		return err
	}
	for {
		ev, err := sess.Recv(ctx)
		if err != nil {
			return gaveUp(err)
		}
		if ev.Kind != jsonrpc.EventConnected {
			continue
		}
		err = ask(ctx, ev.Conn)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return gaveUp(ctx.Err())
		case !errors.Is(err, errNoAnswer):
			return err
		}
		// Drop the connection: the session moves on to the next remote.
		setLast(err)
		c.e.progressf("%v; trying another server", err)
		ev.Conn.Close()
	}
}

// tableNames returns the tables of the schema in the order ovsdb-client
// lists them (SHASH_FOR_EACH over the parsed schema): the server's JSON
// member order run through two string hash maps, the parsed JSON object's
// and the schema's own (ovsdb_schema_from_json in ovsdb/ovsdb.c).
func (t *target) tableNames() []string {
	names := memberOrder(t.raw, "tables")
	if len(names) != len(t.schema.Tables) {
		names = names[:0]
		for n := range t.schema.Tables {
			names = append(names, n)
		}
		slices.Sort(names)
		return names
	}
	names = reorder(names, ovstable.ShashOrder(names))
	return reorder(names, ovstable.ShashOrder(names))
}

// columnTypes returns the JSON type of every column of table as the server
// wrote it (ovsdb_type_to_json), "_uuid" and "_version" included.
func (t *target) columnTypes(table string) map[string]json.RawMessage {
	var doc struct {
		Tables map[string]struct {
			Columns map[string]struct {
				Type json.RawMessage `json:"type"`
			} `json:"columns"`
		} `json:"tables"`
	}
	out := map[string]json.RawMessage{"_uuid": json.RawMessage(`"uuid"`), "_version": json.RawMessage(`"uuid"`)}
	if json.Unmarshal(t.raw, &doc) == nil {
		for name, c := range doc.Tables[table].Columns {
			out[name] = c.Type
		}
	}
	return out
}

// columnNames returns the columns of table in ovsdb-client's list order:
// "_uuid" and "_version" first (ovsdb_table_schema_create adds them), then
// the schema's columns, all through the schema's string hash map.
func (t *target) columnNames(table string) []string {
	var tables map[string]json.RawMessage
	var doc struct {
		Tables map[string]json.RawMessage `json:"tables"`
	}
	if json.Unmarshal(t.raw, &doc) == nil {
		tables = doc.Tables
	}
	names := memberOrder(tables[table], "columns")
	if len(names) != len(t.schema.Tables[table].Columns) {
		names = names[:0]
		for n := range t.schema.Tables[table].Columns {
			names = append(names, n)
		}
		slices.Sort(names)
	} else {
		names = reorder(names, ovstable.ShashOrder(names))
	}
	return reorder(append([]string{"_uuid", "_version"}, names...),
		ovstable.ShashOrder(append([]string{"_uuid", "_version"}, names...)))
}

func reorder(names []string, order []int) []string {
	out := make([]string, len(order))
	for i, j := range order {
		out[i] = names[j]
	}
	return out
}

// memberOrder returns the member names of the object at key of the JSON
// object data, in the order they appear.
func memberOrder(data json.RawMessage, key string) []string {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil
		}
		if k != key {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return nil
		}
		var names []string
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil
			}
			names = append(names, k.(string))
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
		}
		return names
	}
	return nil
}

// table returns the schema of the named table, or an error like
// ovsdb-client's naming the closest table.
func (t *target) table(name string) (*ovsdb.TableSchema, error) {
	ts, ok := t.schema.Tables[name]
	if !ok {
		var names []string
		for n := range t.schema.Tables {
			names = append(names, n)
		}
		return nil, fmt.Errorf("%s: %s does not have a table named %q%s", t.name, t.database, name, didYouMean(name, names))
	}
	return &ts, nil
}

// column checks that table has the named column ("_uuid" and "_version"
// included), or
// returns an error like ovsdb-client's naming the closest column.
func (t *target) column(table, name string) error {
	ts := t.schema.Tables[table]
	if _, ok := ts.Columns[name]; ok || name == "_uuid" || name == monitor.VersionColumn {
		return nil
	}
	names := []string{"_uuid", monitor.VersionColumn}
	for n := range ts.Columns {
		names = append(names, n)
	}
	return fmt.Errorf("%s: table %q in %s does not have a column named %q%s", t.name, table, t.database, name, didYouMean(name, names))
}

// didYouMean returns ` (did you mean "X"?)` for the candidate closest to
// name, or "" when none is close (an edit distance above half its length).
func didYouMean(name string, candidates []string) string {
	best, bestD := "", -1
	slices.Sort(candidates)
	for _, c := range candidates {
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(len(name), len(best))/2 {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Damerau-Levenshtein distance (optimal string
// alignment): a swap of two neighbours counts as one edit.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
