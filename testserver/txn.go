package testserver

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/ovsdbcs/ovsdbcs/testserver/internal/jsonnum"
)

// This file is the transaction engine: it runs the operations of one
// "transact" request (RFC 7047 section 5.2) against the committed database
// and either produces the change set to commit or the per-operation results
// with the error that stopped it, in ovsdb-server's shapes.
//
// Simplifications, stated plainly: constraint messages follow ovsdb-server's
// wording where it was checked against 3.1, and are close paraphrases
// elsewhere; a "wait" compares the projected rows as multisets; garbage
// collection of unreferenced rows in non-root tables, weak-reference
// cleanup and the delete-of-referenced-row check scan the referencing tables
// (fine for test-sized databases).

// txnEnv is what one transaction runs against.
type txnEnv struct {
	base     *dbState // the committed state; must carry indexes
	newUUID  func() string
	hasLock  func(name string) bool
	readOnly bool          // the _Server database
	elapsed  time.Duration // since the request arrived, for "wait" timeouts
	// dryRun only finds out whether the transaction would change anything
	// (base is a member's view, without indexes): no commit checks.
	dryRun bool
}

// txnOutcome is the result of running a transaction once.
type txnOutcome struct {
	results []any
	// changes is what to commit; nil when the transaction failed, and
	// empty when it succeeded without changing anything.
	changes changeSet
	failed  bool
	// wait is set when a "wait" operation is not yet satisfied and has not
	// timed out: nothing is replied yet; run it again after the next
	// commit, or after retryIn at the latest (0: no deadline).
	wait    bool
	retryIn time.Duration
}

type txn struct {
	env      *txnEnv
	schema   *dbSchema
	rows     map[string]map[string]*row // overlay; a nil row is a deletion
	inserted map[string]map[string]bool
	named    *namedUUIDs
	wait     bool
	retryIn  time.Duration
}

// executeTxn runs the operations (the params after the database name).
func executeTxn(env *txnEnv, ops []json.RawMessage) *txnOutcome {
	t := &txn{
		env:      env,
		schema:   env.base.schema,
		rows:     map[string]map[string]*row{},
		inserted: map[string]map[string]bool{},
		named:    newNamedUUIDs(env.newUUID),
	}
	out := &txnOutcome{results: make([]any, 0, len(ops)+1)}
	for i, raw := range ops {
		res, err := t.execOp(raw, i+1, len(ops))
		if t.wait {
			return &txnOutcome{wait: true, retryIn: t.retryIn}
		}
		if err != nil {
			out.results = append(out.results, ovsErrorOf(err))
			for len(out.results) < len(ops) {
				out.results = append(out.results, nil)
			}
			out.failed = true
			return out
		}
		out.results = append(out.results, res)
	}
	changes, err := t.commit()
	if err != nil {
		out.results = append(out.results, ovsErrorOf(err))
		out.failed = true
		return out
	}
	out.changes = changes
	return out
}

func ovsErrorOf(err error) *ovsError {
	if e, ok := err.(*ovsError); ok {
		return e
	}
	return newError("internal error", "%v", err)
}

// opParser reads the members of one operation object. Its reading
// methods record the first error and do nothing once there is one, so an
// operation reads its members in order and checks once, with finish: the
// error is the one ovsdb-server reports first.
type opParser struct {
	raw  json.RawMessage
	obj  map[string]json.RawMessage
	used map[string]bool
	idx  int
	n    int
	err  error // the first error
}

func (p *opParser) fail(format string, args ...any) *ovsError {
	e := syntaxError(nil, "Parsing ovsdb operation %d of %d failed: %s", p.idx, p.n, fmt.Sprintf(format, args...))
	e.Syntax = canonical(p.raw)
	return e
}

// member returns the member name, or nil when it is absent (an error if
// required).
func (p *opParser) member(name string, required bool) json.RawMessage {
	if p.err != nil {
		return nil
	}
	v, ok := p.obj[name]
	if !ok {
		if required {
			p.err = p.fail("Required '%s' member is missing.", name)
		}
		return nil
	}
	p.used[name] = true
	return v
}

// str returns the string member name, or "" when it is absent.
func (p *opParser) str(name string, required bool) string {
	raw := p.member(name, required)
	if raw == nil {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		p.err = p.fail("Type mismatch for member '%s'.", name)
	}
	return s
}

// finish returns the first error, or an error if a member was not read.
func (p *opParser) finish() error {
	if p.err != nil {
		return p.err
	}
	var extra []string
	for k := range p.obj {
		if !p.used[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return p.fail("Member '%s' is present but not allowed here.", extra[0])
	}
	return nil
}

// table returns the table the "table" member names.
func (p *opParser) table(s *dbSchema) *tableSchema {
	name := p.str("table", true)
	if p.err != nil {
		return nil
	}
	t := s.tables[name]
	if t == nil {
		p.err = p.fail("No table named %s.", name)
	}
	return t
}

// where returns the condition of the "where" member, for table ts.
func (p *opParser) where(ts *tableSchema, named *namedUUIDs) condition {
	raw := p.member("where", true)
	if p.err != nil {
		return nil
	}
	cond, err := parseCondition(raw, ts, named)
	if err != nil {
		p.err = err
	}
	return cond
}

func (t *txn) execOp(raw json.RawMessage, idx, n int) (any, error) {
	p := &opParser{raw: raw, used: map[string]bool{}, idx: idx, n: n}
	if json.Unmarshal(raw, &p.obj) != nil || p.obj == nil {
		return nil, syntaxError(raw, "Parsing ovsdb operation %d of %d failed: Type mismatch for member 'op'.", idx, n)
	}
	op := p.str("op", true)
	if p.err != nil {
		return nil, p.err
	}
	switch op {
	case "insert":
		return t.opInsert(p)
	case "select":
		return t.opSelect(p)
	case "update":
		return t.opUpdate(p)
	case "mutate":
		return t.opMutate(p)
	case "delete":
		return t.opDelete(p)
	case "wait":
		return t.opWait(p)
	case "commit":
		raw := p.member("durable", true)
		var b bool
		if p.err == nil && json.Unmarshal(raw, &b) != nil {
			p.err = p.fail("Type mismatch for member 'durable'.")
		}
		if err := p.finish(); err != nil {
			return nil, err
		}
		return map[string]any{}, nil
	case "abort":
		if err := p.finish(); err != nil {
			return nil, err
		}
		return nil, newError("aborted", "aborted by request")
	case "comment":
		p.str("comment", true)
		if err := p.finish(); err != nil {
			return nil, err
		}
		return map[string]any{}, nil
	case "assert":
		lock := p.str("lock", true)
		if err := p.finish(); err != nil {
			return nil, err
		}
		if t.env.hasLock == nil || !t.env.hasLock(lock) {
			return nil, newError("not owner", "Asserted lock %s not held.", lock)
		}
		return map[string]any{}, nil
	default:
		return nil, p.fail("No operation \"%s\"", op)
	}
}

// get returns the current version of a row, or nil.
func (t *txn) get(table, uuid string) *row {
	if m, ok := t.rows[table]; ok {
		if r, ok := m[uuid]; ok {
			return r
		}
	}
	return t.env.base.tables[table][uuid]
}

func (t *txn) put(table string, r *row) {
	m := t.rows[table]
	if m == nil {
		m = map[string]*row{}
		t.rows[table] = m
	}
	m[r.uuid] = r
}

func (t *txn) del(table, uuid string) {
	m := t.rows[table]
	if m == nil {
		m = map[string]*row{}
		t.rows[table] = m
	}
	m[uuid] = nil
}

// match returns the current rows of table that satisfy cond, by UUID.
func (t *txn) match(table string, cond condition) []*row {
	if cond.isFalse() {
		return nil
	}
	if u, ok := cond.uuidLookup(); ok {
		if r := t.get(table, u); r != nil && cond.eval(r) {
			return []*row{r}
		}
		return nil
	}
	base := t.env.base.tables[table]
	over := t.rows[table]
	uuids := make([]string, 0, len(base)+len(over))
	for u := range base {
		if _, ok := over[u]; !ok {
			uuids = append(uuids, u)
		}
	}
	for u, r := range over {
		if r != nil {
			uuids = append(uuids, u)
		}
	}
	sort.Strings(uuids)
	var out []*row
	for _, u := range uuids {
		r := t.get(table, u)
		if cond.eval(r) {
			out = append(out, r)
		}
	}
	return out
}

// parseRow parses the "row" member: column -> value.
func (t *txn) parseRow(raw json.RawMessage, ts *tableSchema) (map[string]datum, []string, error) {
	v, err := jsonnum.Decode(raw)
	obj, ok := v.(map[string]any)
	if err != nil || !ok {
		return nil, nil, syntaxError(raw, "row must be an object")
	}
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	sort.Strings(names)
	vals := make(map[string]datum, len(obj))
	for _, name := range names {
		c := ts.column(name)
		if c == nil {
			return nil, nil, (&ovsError{Tag: "unknown column", Details: "No column " + name + " in table " + ts.name + "."}).withSyntax(raw)
		}
		d, err := parseDatum(obj[name], &c.typ, t.named)
		if err != nil {
			return nil, nil, err
		}
		vals[name] = d
	}
	return vals, names, nil
}

func (t *txn) opInsert(p *opParser) (any, error) {
	ts := p.table(t.schema)
	rowRaw := p.member("row", true)
	uuidName := p.str("uuid-name", false)
	explicit := p.str("uuid", false)
	if err := p.finish(); err != nil {
		return nil, err
	}
	var u string
	switch {
	case explicit != "":
		if !isUUID(explicit) {
			return nil, syntaxError(explicit, "bad uuid")
		}
		u = strings.ToLower(explicit)
		if t.get(ts.name, u) != nil || t.inserted[ts.name][u] {
			return nil, newError("duplicate uuid", "This UUID would duplicate a UUID already present within the table or deleted within the same transaction.")
		}
	case uuidName != "":
		if !idPattern.MatchString(uuidName) {
			return nil, syntaxError(uuidName, "uuid-name must be an <id>")
		}
		if t.named.defined[uuidName] {
			return nil, &ovsError{Tag: "duplicate uuid-name", Details: "This \"uuid-name\" appeared on an earlier \"insert\" operation.", Syntax: string(marshal(uuidName))}
		}
		u, _ = t.named.resolve(uuidName)
	default:
		u = t.env.newUUID()
	}
	if uuidName != "" {
		t.named.defined[uuidName] = true
		if explicit != "" {
			t.named.m[uuidName] = u
		}
	}
	r := newDefaultRow(ts, u)
	vals, names, err := t.parseRow(rowRaw, ts)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		c := ts.column(name)
		if c == uuidColumn || c == versionColumn {
			return nil, (&ovsError{Tag: "constraint violation", Details: "Cannot set immutable column " + name + " in table " + ts.name + "."}).withSyntax(p.raw)
		}
		r.cols[name] = vals[name]
	}
	for _, name := range ts.colNames {
		if err := checkDatum(r.cols[name], &ts.columns[name].typ); err != nil {
			return nil, err
		}
	}
	if t.env.readOnly {
		return nil, newError("not allowed", "insert operation not allowed on table in reserved database %s", t.schema.name)
	}
	if t.inserted[ts.name] == nil {
		t.inserted[ts.name] = map[string]bool{}
	}
	t.inserted[ts.name][u] = true
	t.put(ts.name, r)
	return map[string]any{"uuid": []any{"uuid", u}}, nil
}

func (t *txn) columnList(raw json.RawMessage, ts *tableSchema) ([]string, error) {
	var names []string
	if json.Unmarshal(raw, &names) != nil {
		return nil, syntaxError(raw, "array of column names expected")
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if ts.column(n) == nil {
			return nil, syntaxError(raw, "%s is not a valid column name", n)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

func (t *txn) opSelect(p *opParser) (any, error) {
	ts := p.table(t.schema)
	cond := p.where(ts, t.named)
	colsRaw := p.member("columns", false)
	if err := p.finish(); err != nil {
		return nil, err
	}
	var err error
	cols := allColumns(ts)
	if colsRaw != nil {
		if cols, err = t.columnList(colsRaw, ts); err != nil {
			return nil, err
		}
	}
	rows := []any{}
	for _, r := range t.match(ts.name, cond) {
		rows = append(rows, rowJSON(r, ts, cols, false))
	}
	return map[string]any{"rows": rows}, nil
}

func (t *txn) opUpdate(p *opParser) (any, error) {
	ts := p.table(t.schema)
	cond := p.where(ts, t.named)
	rowRaw := p.member("row", true)
	if err := p.finish(); err != nil {
		return nil, err
	}
	vals, names, err := t.parseRow(rowRaw, ts)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		c := ts.column(name)
		if c == uuidColumn || c == versionColumn || !c.mutable {
			return nil, (&ovsError{Tag: "constraint violation", Details: "Cannot update immutable column " + name + " in table " + ts.name + "."}).withSyntax(p.raw)
		}
		if err := checkDatum(vals[name], &c.typ); err != nil {
			return nil, err
		}
	}
	if t.env.readOnly {
		return nil, newError("not allowed", "update operation not allowed on table in reserved database %s", t.schema.name)
	}
	rows := t.match(ts.name, cond)
	for _, r := range rows {
		n := r.clone()
		for name, d := range vals {
			n.cols[name] = d
		}
		t.put(ts.name, n)
	}
	return map[string]any{"count": len(rows)}, nil
}

func (t *txn) opDelete(p *opParser) (any, error) {
	ts := p.table(t.schema)
	cond := p.where(ts, t.named)
	if err := p.finish(); err != nil {
		return nil, err
	}
	if t.env.readOnly {
		return nil, newError("not allowed", "delete operation not allowed on table in reserved database %s", t.schema.name)
	}
	rows := t.match(ts.name, cond)
	for _, r := range rows {
		t.del(ts.name, r.uuid)
	}
	return map[string]any{"count": len(rows)}, nil
}

type mutation struct {
	col     *column
	mutator string
	arg     datum
	raw     any
}

var arithmetic = map[string]bool{"+=": true, "-=": true, "*=": true, "/=": true, "%=": true}

func (t *txn) parseMutations(raw json.RawMessage, ts *tableSchema) ([]mutation, error) {
	v, err := jsonnum.Decode(raw)
	list, ok := v.([]any)
	if err != nil || !ok {
		return nil, syntaxError(raw, "Parse error in mutations.")
	}
	var out []mutation
	for _, mv := range list {
		arr, ok := mv.([]any)
		if !ok || len(arr) != 3 {
			return nil, syntaxError(mv, "Parse error in mutation.")
		}
		name, ok1 := arr[0].(string)
		mut, ok2 := arr[1].(string)
		if !ok1 || !ok2 {
			return nil, syntaxError(mv, "Parse error in mutation.")
		}
		c := ts.column(name)
		if c == nil {
			return nil, (&ovsError{Tag: "unknown column", Details: "No column " + name + " in table " + ts.name + "."}).withSyntax(mv)
		}
		if c == uuidColumn || c == versionColumn || !c.mutable {
			return nil, (&ovsError{Tag: "constraint violation", Details: "Cannot mutate immutable column " + name + " in table " + ts.name + "."}).withSyntax(mv)
		}
		m := mutation{col: c, mutator: mut, raw: mv}
		typ := c.typ
		switch {
		case arithmetic[mut]:
			kt := typ.key.typ
			if typ.isMap() || (kt != atomInteger && kt != atomReal) || (mut == "%=" && kt != atomInteger) {
				return nil, syntaxError(mv, "Type mismatch: \"%s\" operator may not be applied to column %s of type %s.", mut, name, typ.english())
			}
			at := colType{key: unconstrained(typ.key), min: 1, max: 1}
			if m.arg, err = parseDatum(arr[2], &at, t.named); err != nil {
				return nil, err
			}
		case mut == "insert" || mut == "delete":
			if typ.isScalar() {
				return nil, syntaxError(mv, "Type mismatch: \"%s\" operator may not be applied to column %s of type %s.", mut, name, typ.english())
			}
			// The argument may be smaller than the column allows; only a
			// "delete" argument may also be larger.
			at := typ
			at.min = 0
			if mut == "delete" {
				at.max = unlimited
			}
			m.arg, err = parseDatum(arr[2], &at, t.named)
			if err != nil && mut == "delete" && typ.isMap() {
				// A map's keys may be deleted with a set of keys.
				kt := colType{key: typ.key, min: 0, max: unlimited}
				m.arg, err = parseDatum(arr[2], &kt, t.named)
			}
			if err != nil {
				return nil, err
			}
		default:
			return nil, newError("unknown mutator", "No mutator named %s.", mut)
		}
		out = append(out, m)
	}
	return out, nil
}

func (t *txn) opMutate(p *opParser) (any, error) {
	ts := p.table(t.schema)
	cond := p.where(ts, t.named)
	mraw := p.member("mutations", true)
	if err := p.finish(); err != nil {
		return nil, err
	}
	muts, err := t.parseMutations(mraw, ts)
	if err != nil {
		return nil, err
	}
	if t.env.readOnly {
		return nil, newError("not allowed", "mutate operation not allowed on table in reserved database %s", t.schema.name)
	}
	rows := t.match(ts.name, cond)
	for _, r := range rows {
		n := r.clone()
		for _, m := range muts {
			d, err := applyMutation(n.cols[m.col.name], m)
			if err != nil {
				return nil, err
			}
			n.cols[m.col.name] = d
		}
		t.put(ts.name, n)
	}
	return map[string]any{"count": len(rows)}, nil
}

func applyMutation(cur datum, m mutation) (datum, error) {
	typ := &m.col.typ
	var out datum
	switch m.mutator {
	case "insert":
		keys := append([]atom{}, cur.keys...)
		var vals []atom
		if typ.isMap() {
			vals = append([]atom{}, cur.vals...)
		}
		for i, k := range m.arg.keys {
			if cur.find(k) >= 0 {
				continue
			}
			keys = append(keys, k)
			if typ.isMap() {
				vals = append(vals, m.arg.vals[i])
			}
		}
		out, _ = makeDatum(keys, vals, typ.isMap())
	case "delete":
		var keys, vals []atom
		for i, k := range cur.keys {
			j := m.arg.find(k)
			if j >= 0 && (m.arg.vals == nil || !typ.isMap() || cmpAtom(m.arg.vals[j], cur.vals[i]) == 0) {
				continue
			}
			keys = append(keys, k)
			if typ.isMap() {
				vals = append(vals, cur.vals[i])
			}
		}
		if keys == nil {
			keys = []atom{}
		}
		out, _ = makeDatum(keys, vals, typ.isMap())
	default:
		keys := make([]atom, len(cur.keys))
		for i, k := range cur.keys {
			v, err := arith(k, m.arg.keys[0], m.mutator)
			if err != nil {
				return datum{}, err
			}
			keys[i] = v
		}
		var err error
		out, err = makeDatum(keys, nil, false)
		if err != nil {
			return datum{}, newError("constraint violation", "Result of \"%s\" operation contains duplicates.", m.mutator)
		}
	}
	if n := out.len(); n < typ.min || n > typ.max {
		return datum{}, newError("constraint violation", "Attempted to store %d elements in %s.", n, typ.english())
	}
	if err := checkDatum(out, typ); err != nil {
		return datum{}, err
	}
	return out, nil
}

func arith(a, b atom, op string) (atom, error) {
	switch x := a.(type) {
	case int64:
		y := b.(int64)
		var r int64
		switch op {
		case "+=":
			r = x + y
			if (y > 0 && r < x) || (y < 0 && r > x) {
				return nil, newError("range error", "Result of \"%s\" operation is out of range.", op)
			}
		case "-=":
			r = x - y
			if (y < 0 && r < x) || (y > 0 && r > x) {
				return nil, newError("range error", "Result of \"%s\" operation is out of range.", op)
			}
		case "*=":
			r = x * y
			if x != 0 && (r/x != y || (x == -1 && y == math.MinInt64)) {
				return nil, newError("range error", "Result of \"%s\" operation is out of range.", op)
			}
		case "/=", "%=":
			if y == 0 {
				return nil, newError("domain error", "Division by zero.")
			}
			if x == math.MinInt64 && y == -1 {
				return nil, newError("range error", "Result of \"%s\" operation is out of range.", op)
			}
			if op == "/=" {
				r = x / y
			} else {
				r = x % y
			}
		}
		return r, nil
	case float64:
		y := b.(float64)
		var r float64
		switch op {
		case "+=":
			r = x + y
		case "-=":
			r = x - y
		case "*=":
			r = x * y
		case "/=":
			if y == 0 {
				return nil, newError("domain error", "Division by zero.")
			}
			r = x / y
		}
		if math.IsInf(r, 0) || math.IsNaN(r) {
			return nil, newError("range error", "Result of \"%s\" operation is out of range.", op)
		}
		return r, nil
	}
	return nil, newError("internal error", "arithmetic on %T", a)
}

func (t *txn) opWait(p *opParser) (any, error) {
	ts := p.table(t.schema)
	cond := p.where(ts, t.named)
	colsRaw := p.member("columns", true)
	until := p.str("until", true)
	rowsRaw := p.member("rows", true)
	timeoutRaw := p.member("timeout", false)
	if err := p.finish(); err != nil {
		return nil, err
	}
	if until != "==" && until != "!=" {
		return nil, syntaxError(until, "\"until\" must be \"==\" or \"!=\"")
	}
	timeout := int64(math.MaxInt64)
	if timeoutRaw != nil {
		v, err := jsonnum.Decode(timeoutRaw)
		n, ierr := jsonInt(v)
		if err != nil || ierr != nil || n < 0 {
			return nil, syntaxError(timeoutRaw, "\"timeout\" must be a nonnegative integer")
		}
		timeout = n
	}
	cols, err := t.columnList(colsRaw, ts)
	if err != nil {
		return nil, err
	}
	var expected []any
	if json.Unmarshal(rowsRaw, &expected) != nil {
		return nil, syntaxError(rowsRaw, "\"rows\" must be an array of rows")
	}
	var want []string
	for _, er := range expected {
		vals, _, err := t.parseRow(marshal(er), ts)
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		for _, c := range cols {
			d, ok := vals[c]
			if !ok {
				d = defaultDatum(&ts.column(c).typ)
			}
			d.writeKey(&b)
			b.WriteByte(0)
		}
		want = append(want, b.String())
	}
	var got []string
	for _, r := range t.match(ts.name, cond) {
		got = append(got, indexKey(r, cols))
	}
	sort.Strings(want)
	sort.Strings(got)
	equal := strings.Join(want, "\x01") == strings.Join(got, "\x01") && len(want) == len(got)
	if equal == (until == "==") {
		return map[string]any{}, nil
	}
	elapsed := t.env.elapsed.Milliseconds()
	if elapsed >= timeout {
		if timeout == 0 {
			return nil, newError("timed out", "\"where\" clause test failed")
		}
		return nil, newError("timed out", "\"wait\" timed out after %d ms", timeout)
	}
	t.wait = true
	if timeout != math.MaxInt64 {
		left := time.Duration(timeout-elapsed) * time.Millisecond
		if t.retryIn == 0 || left < t.retryIn {
			t.retryIn = left
		}
	}
	return nil, nil
}

// commit turns the overlay into a change set and runs the checks
// ovsdb-server runs before committing: referential integrity, garbage
// collection of unreferenced non-root rows, weak references, maxRows and
// unique indexes.
func (t *txn) commit() (changeSet, error) {
	cs := changeSet{}
	for table, rows := range t.rows {
		for u, r := range rows {
			old := t.env.base.tables[table][u]
			if old == nil && r == nil {
				continue
			}
			if old != nil && r != nil && sameValues(old, r) {
				continue
			}
			if cs[table] == nil {
				cs[table] = map[string]*rowChange{}
			}
			cs[table][u] = &rowChange{old: old, new: r}
		}
	}
	if cs.empty() || t.env.dryRun {
		return cs, nil
	}
	if err := t.checkReferences(cs); err != nil {
		return nil, err
	}
	if err := t.checkMaxRows(cs); err != nil {
		return nil, err
	}
	if err := t.checkIndexes(cs); err != nil {
		return nil, err
	}
	for table, rows := range cs {
		for u, ch := range rows {
			if ch.new != nil {
				if ch.new == t.env.base.tables[table][u] {
					ch.new = ch.new.clone()
				}
				ch.new.version = t.env.newUUID()
			}
		}
		if len(rows) == 0 {
			delete(cs, table)
		}
	}
	return cs, nil
}
