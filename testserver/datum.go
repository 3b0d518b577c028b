package testserver

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
	"github.com/ovsdbcs/ovsdbcs/testserver/internal/jsonnum"
)

// This file holds OVSDB values: atoms, and datums (the value of one column:
// a scalar, a set or a map), parsed from and printed to RFC 7047 notation,
// compared, diffed (for update2) and checked against base-type constraints.

// An atom is one of int64, float64, bool, string or uuidAtom.
type atom = any

// uuidAtom is a UUID value in its canonical lowercase text form.
type uuidAtom string

const zeroUUID = "00000000-0000-0000-0000-000000000000"

// isUUID reports whether s is a uuid in the 8-4-4-4-12 form, either case.
func isUUID(s string) bool { _, ok := ovsjson.ParseUUID(s); return ok }

// datum is a column value: keys sorted and unique; vals parallel to keys for
// maps, nil otherwise. Datums are never modified in place once built.
type datum struct {
	keys []atom
	vals []atom
}

func scalar(a atom) datum { return datum{keys: []atom{a}} }

func (d datum) len() int { return len(d.keys) }

func cmpAtom(a, b atom) int {
	switch x := a.(type) {
	case int64:
		y := b.(int64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case float64:
		y := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case string:
		return strings.Compare(x, b.(string))
	case uuidAtom:
		return strings.Compare(string(x), string(b.(uuidAtom)))
	}
	panic(fmt.Sprintf("testserver: not an atom: %T", a))
}

func (d datum) equal(e datum) bool {
	if len(d.keys) != len(e.keys) {
		return false
	}
	for i := range d.keys {
		if cmpAtom(d.keys[i], e.keys[i]) != 0 {
			return false
		}
		if d.vals != nil && e.vals != nil && cmpAtom(d.vals[i], e.vals[i]) != 0 {
			return false
		}
	}
	return true
}

// find returns the index of key k, or -1.
func (d datum) find(k atom) int {
	i := sort.Search(len(d.keys), func(i int) bool { return cmpAtom(d.keys[i], k) >= 0 })
	if i < len(d.keys) && cmpAtom(d.keys[i], k) == 0 {
		return i
	}
	return -1
}

// contains reports whether d holds key k (and value v, for maps, if v != nil).
func (d datum) contains(k, v atom) bool {
	i := d.find(k)
	if i < 0 {
		return false
	}
	return v == nil || d.vals == nil || cmpAtom(d.vals[i], v) == 0
}

// includesAll reports whether every element of a is in d.
func (d datum) includesAll(a datum) bool {
	for i, k := range a.keys {
		var v atom
		if a.vals != nil {
			v = a.vals[i]
		}
		if !d.contains(k, v) {
			return false
		}
	}
	return true
}

// excludesAll reports whether no element of a is in d.
func (d datum) excludesAll(a datum) bool {
	for i, k := range a.keys {
		var v atom
		if a.vals != nil {
			v = a.vals[i]
		}
		if d.contains(k, v) {
			return false
		}
	}
	return true
}

// pairs is a sortable helper to build datums.
type pairs struct {
	keys, vals []atom
}

func (p *pairs) Len() int           { return len(p.keys) }
func (p *pairs) Less(i, j int) bool { return cmpAtom(p.keys[i], p.keys[j]) < 0 }
func (p *pairs) Swap(i, j int) {
	p.keys[i], p.keys[j] = p.keys[j], p.keys[i]
	if p.vals != nil {
		p.vals[i], p.vals[j] = p.vals[j], p.vals[i]
	}
}

// makeDatum sorts keys (and vals) and rejects duplicate keys.
func makeDatum(keys, vals []atom, isMap bool) (datum, error) {
	p := &pairs{keys: keys, vals: vals}
	sort.Stable(p)
	for i := 1; i < len(keys); i++ {
		if cmpAtom(keys[i-1], keys[i]) == 0 {
			if isMap {
				return datum{}, newError("ovsdb error", "map contains duplicate key")
			}
			return datum{}, newError("ovsdb error", "set contains duplicate")
		}
	}
	if isMap && vals == nil {
		vals = []atom{}
	}
	return datum{keys: keys, vals: vals}, nil
}

// defaultAtom is the default value of an atomic type.
func defaultAtom(t atomType) atom {
	switch t {
	case atomInteger:
		return int64(0)
	case atomReal:
		return float64(0)
	case atomBoolean:
		return false
	case atomString:
		return ""
	default:
		return uuidAtom(zeroUUID)
	}
}

// defaultDatum is the value of a column that was never set.
func defaultDatum(t *colType) datum {
	if t.min == 0 {
		if t.isMap() {
			return datum{keys: []atom{}, vals: []atom{}}
		}
		return datum{keys: []atom{}}
	}
	d := datum{keys: []atom{defaultAtom(t.key.typ)}}
	if t.isMap() {
		d.vals = []atom{defaultAtom(t.value.typ)}
	}
	return d
}

// namedUUIDs is a transaction's symbol table: it resolves ["named-uuid",
// name] references. As in ovsdb-server, a name may be used before the insert
// that defines it; the first use picks its UUID.
type namedUUIDs struct {
	m       map[string]string
	defined map[string]bool
	gen     func() string
}

func newNamedUUIDs(gen func() string) *namedUUIDs {
	return &namedUUIDs{m: map[string]string{}, defined: map[string]bool{}, gen: gen}
}

func (n *namedUUIDs) resolve(name string) (string, bool) {
	if n == nil {
		return "", false
	}
	if u, ok := n.m[name]; ok {
		return u, true
	}
	u := n.gen()
	n.m[name] = u
	return u, true
}

// jsonInteger reports whether ovsdb-server's JSON reader would take number
// n as an integer, and its value. That reader keeps the exact decimal
// significand and exponent of a number and calls it an integer whenever the
// value is integral and fits in 64 bits, whatever its spelling: 2.0, 1e3
// and 0.0 are integers to it, 1.5 and 1e300 are reals.
func jsonInteger(n json.Number) (int64, bool) {
	s := string(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	const maxSig = math.MaxUint64 / 10
	var sig uint64
	pow10, lossy := 0, false
	digit := func(c byte, fraction bool) {
		switch {
		case sig <= maxSig:
			sig = sig*10 + uint64(c-'0')
			if fraction {
				pow10--
			}
		default:
			if !fraction {
				pow10++
			}
			if c != '0' {
				lossy = true
			}
		}
	}
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digit(s[i], false)
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digit(s[i], true)
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		exp, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || exp > math.MaxInt32/10 || exp < -math.MaxInt32/10 {
			return 0, false
		}
		pow10 += exp
		i = len(s)
	}
	if i != len(s) {
		return 0, false
	}
	if sig == 0 {
		return 0, true
	}
	if lossy {
		return 0, false
	}
	for pow10 > 0 && sig < maxSig {
		sig *= 10
		pow10--
	}
	for pow10 < 0 && sig%10 == 0 {
		sig /= 10
		pow10++
	}
	switch {
	case pow10 != 0:
		return 0, false
	case neg && sig <= 1<<63:
		return int64(-sig), true
	case !neg && sig <= math.MaxInt64:
		return int64(sig), true
	}
	return 0, false
}

// tagged returns the second element of v when v is [tag, <want>] (want is
// "string" or "array").
func tagged(v any, tag, want string) (any, bool) {
	arr, ok := v.([]any)
	if !ok || len(arr) != 2 {
		return nil, false
	}
	if s, ok := arr[0].(string); !ok || s != tag {
		return nil, false
	}
	switch want {
	case "string":
		_, ok = arr[1].(string)
	case "array":
		_, ok = arr[1].([]any)
	}
	return arr[1], ok
}

// notTagged is ovsdb-server's error for a value that is not [tag, <want>].
func notTagged(v any, tag, want string) *ovsError {
	return syntaxError(v, "expected [\"%s\", <%s>]", tag, want)
}

// parseUUIDAtom parses ["uuid", "<uuid>"], or ["named-uuid", "<id>"] when
// named is not nil.
func parseUUIDAtom(v any, named *namedUUIDs) (atom, error) {
	if inner, ok := tagged(v, "uuid", "string"); ok {
		s := inner.(string)
		if !isUUID(s) {
			return nil, syntaxError(v, "\"%s\" is not a valid UUID", s)
		}
		return uuidAtom(strings.ToLower(s)), nil
	}
	if named != nil {
		if inner, ok := tagged(v, "named-uuid", "string"); ok {
			name := inner.(string)
			if !idPattern.MatchString(name) {
				return nil, syntaxError(v, "named-uuid string is not a valid <id>")
			}
			u, _ := named.resolve(name)
			return uuidAtom(u), nil
		}
	}
	return nil, notTagged(v, "uuid", "string")
}

// parseAtom parses one atom of base type b from a decoded JSON value and
// checks it against b's constraints, as ovsdb-server does while parsing.
func parseAtom(v any, b *baseType, named *namedUUIDs) (atom, error) {
	a, err := parseAtomValue(v, b, named)
	if err != nil {
		return nil, err
	}
	if b.hasConstraints() {
		if err := checkAtom(a, b); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func parseAtomValue(v any, b *baseType, named *namedUUIDs) (atom, error) {
	switch b.typ {
	case atomInteger:
		if n, ok := v.(json.Number); ok {
			if i, ok := jsonInteger(n); ok {
				return i, nil
			}
		}
		return nil, syntaxError(v, "expected integer")
	case atomReal:
		if n, ok := v.(json.Number); ok {
			if i, ok := jsonInteger(n); ok {
				return float64(i), nil
			}
			if f, err := strconv.ParseFloat(string(n), 64); err == nil {
				if f == 0 {
					f = 0 // no negative zero
				}
				return f, nil
			}
		}
		return nil, syntaxError(v, "expected real")
	case atomBoolean:
		if x, ok := v.(bool); ok {
			return x, nil
		}
		return nil, syntaxError(v, "expected boolean")
	case atomString:
		if x, ok := v.(string); ok {
			return x, nil
		}
		return nil, syntaxError(v, "expected string")
	case atomUUID:
		return parseUUIDAtom(v, named)
	}
	return nil, syntaxError(v, "unknown atomic type")
}

// isSetNotation reports whether v is an array whose first element is the
// string "set": ovsdb-server then parses it as ["set", <array>].
func isSetNotation(v any) bool {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return false
	}
	tag, _ := arr[0].(string)
	return tag == "set"
}

// parseDatum parses a column value of type t. As in ovsdb-server, the
// number of elements is checked before the elements are parsed, each atom
// is checked against its constraints as it is parsed, and duplicates are
// reported last.
func parseDatum(v any, t *colType, named *namedUUIDs) (datum, error) {
	var keys, vals []atom
	if t.isMap() || isSetNotation(v) {
		kind := "set"
		if t.isMap() {
			kind = "map"
		}
		inner, ok := tagged(v, kind, "array")
		if !ok {
			return datum{}, notTagged(v, kind, "array")
		}
		elems := inner.([]any)
		if n := len(elems); n < t.min || n > t.max {
			return datum{}, syntaxError(v, "%s must have %d to %d members but %d are present", kind, t.min, maxMembers(t), n)
		}
		keys = make([]atom, 0, len(elems))
		if t.isMap() {
			vals = make([]atom, 0, len(elems))
		}
		for _, e := range elems {
			ke, ve := e, any(nil)
			if t.isMap() {
				pair, ok := e.([]any)
				if !ok || len(pair) != 2 {
					return datum{}, syntaxError(e, "expected 2-element array")
				}
				ke, ve = pair[0], pair[1]
			}
			k, err := parseAtom(ke, &t.key, named)
			if err != nil {
				return datum{}, err
			}
			keys = append(keys, k)
			if t.isMap() {
				val, err := parseAtom(ve, t.value, named)
				if err != nil {
					return datum{}, err
				}
				vals = append(vals, val)
			}
		}
	} else {
		k, err := parseAtom(v, &t.key, named)
		if err != nil {
			return datum{}, err
		}
		keys = []atom{k}
	}
	return makeDatum(keys, vals, t.isMap())
}

// maxMembers is the max of t as ovsdb-server prints it: an unlimited
// maximum is the largest 32-bit unsigned integer.
func maxMembers(t *colType) int64 {
	if t.max == unlimited {
		return math.MaxUint32
	}
	return int64(t.max)
}

// parseDatumRaw parses a column value from raw JSON.
func parseDatumRaw(raw json.RawMessage, t *colType, named *namedUUIDs) (datum, error) {
	v, err := jsonnum.Decode(raw)
	if err != nil {
		return datum{}, syntaxError(nil, "invalid JSON")
	}
	return parseDatum(v, t, named)
}

func atomJSON(a atom) any {
	if u, ok := a.(uuidAtom); ok {
		return []any{"uuid", string(u)}
	}
	if f, ok := a.(float64); ok {
		return realJSON(f)
	}
	return a
}

// realJSON prints a real the way ovsdb-server does: integral values without
// a fraction ("0", not "0.0").
func realJSON(f float64) json.Number {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return json.Number("0")
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
}

// toJSON prints d in RFC 7047 notation for a column of type t.
func (d datum) toJSON(t *colType) any {
	if t.isMap() {
		elems := make([]any, len(d.keys))
		for i := range d.keys {
			elems[i] = []any{atomJSON(d.keys[i]), atomJSON(d.vals[i])}
		}
		return []any{"map", elems}
	}
	if len(d.keys) == 1 {
		return atomJSON(d.keys[0])
	}
	elems := make([]any, len(d.keys))
	for i, k := range d.keys {
		elems[i] = atomJSON(k)
	}
	return []any{"set", elems}
}

// diff is the update2 "modify" value of a column that changed from old to
// new: the new value for columns holding at most one element; for sets the
// elements added or removed; for maps the removed pairs (old values), the
// added pairs and the pairs whose value changed (new values).
func diff(old, new datum, t *colType) datum {
	if !t.isMap() && t.max == 1 {
		return new
	}
	var keys, vals []atom
	isMap := t.isMap()
	i, j := 0, 0
	for i < len(old.keys) || j < len(new.keys) {
		var c int
		switch {
		case i == len(old.keys):
			c = 1
		case j == len(new.keys):
			c = -1
		default:
			c = cmpAtom(old.keys[i], new.keys[j])
		}
		switch {
		case c < 0:
			keys = append(keys, old.keys[i])
			if isMap {
				vals = append(vals, old.vals[i])
			}
			i++
		case c > 0:
			keys = append(keys, new.keys[j])
			if isMap {
				vals = append(vals, new.vals[j])
			}
			j++
		default:
			if isMap && cmpAtom(old.vals[i], new.vals[j]) != 0 {
				keys = append(keys, new.keys[j])
				vals = append(vals, new.vals[j])
			}
			i++
			j++
		}
	}
	if keys == nil {
		keys = []atom{}
	}
	if isMap && vals == nil {
		vals = []atom{}
	}
	return datum{keys: keys, vals: vals}
}

// bare prints an atom the way ovsdb-server's error messages do: strings
// without quotes when they look like identifiers.
func bare(a atom) string {
	switch x := a.(type) {
	case string:
		if x != "" && bareString.MatchString(x) && x != "true" && x != "false" {
			return x
		}
		return string(marshal(x))
	case uuidAtom:
		return string(x)
	case float64:
		return string(realJSON(x))
	default:
		return fmt.Sprint(x)
	}
}

var bareString = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]*$`)

// checkAtom checks one atom against its base type's constraints.
func checkAtom(a atom, b *baseType) error {
	if b.enum != nil && b.enum.find(a) < 0 {
		var names []string
		for _, k := range b.enum.keys {
			names = append(names, bare(k))
		}
		return newError("constraint violation", "%s is not one of the allowed values ([%s])", bare(a), strings.Join(names, ", "))
	}
	switch x := a.(type) {
	case int64:
		if x < b.minInt || x > b.maxInt {
			switch {
			case b.maxInt == math.MaxInt64:
				return newError("constraint violation", "%d is less than minimum allowed value %d", x, b.minInt)
			case b.minInt == math.MinInt64:
				return newError("constraint violation", "%d is greater than maximum allowed value %d", x, b.maxInt)
			default:
				return newError("constraint violation", "%d is not in the valid range %d to %d (inclusive)", x, b.minInt, b.maxInt)
			}
		}
	case float64:
		if x < b.minReal || x > b.maxReal {
			return newError("constraint violation", "%s is not in the valid range %s to %s (inclusive)", realJSON(x), realJSON(b.minReal), realJSON(b.maxReal))
		}
	case string:
		n := int64(len([]rune(x)))
		if n < b.minLen {
			return newError("constraint violation", "%q length %d is less than minimum allowed length %d", x, n, b.minLen)
		}
		if n > b.maxLen {
			return newError("constraint violation", "%q length %d is greater than maximum allowed length %d", x, n, b.maxLen)
		}
	}
	return nil
}

// checkDatum checks every atom of d against the column type's constraints.
func checkDatum(d datum, t *colType) error {
	for _, k := range d.keys {
		if err := checkAtom(k, &t.key); err != nil {
			return err
		}
	}
	if t.value != nil {
		for _, v := range d.vals {
			if err := checkAtom(v, t.value); err != nil {
				return err
			}
		}
	}
	return nil
}

// uuids returns the UUID atoms of d that refer to table ref through base b.
func refUUIDs(d datum, t *colType, fn func(u string, weak bool, refTable string)) {
	if t.key.typ == atomUUID && t.key.refTable != "" {
		for _, k := range d.keys {
			fn(string(k.(uuidAtom)), t.key.refWeak, t.key.refTable)
		}
	}
	if t.value != nil && t.value.typ == atomUUID && t.value.refTable != "" {
		for _, v := range d.vals {
			fn(string(v.(uuidAtom)), t.value.refWeak, t.value.refTable)
		}
	}
}

// writeKey writes an unambiguous text form of d, for use as a map key.
func (d datum) writeKey(b *strings.Builder) {
	for i, k := range d.keys {
		writeAtomKey(b, k)
		if d.vals != nil {
			b.WriteByte('=')
			writeAtomKey(b, d.vals[i])
		}
		b.WriteByte(',')
	}
}

func writeAtomKey(b *strings.Builder, a atom) {
	switch x := a.(type) {
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		b.WriteString(strconv.Quote(x))
	case uuidAtom:
		b.WriteString(string(x))
	}
}

// String renders d the way ovsdb-server's messages do: a bare atom, or
// [a, b] for sets and {k=v} for maps.
func (d datum) String() string {
	if d.vals == nil && len(d.keys) == 1 {
		return bare(d.keys[0])
	}
	var parts []string
	for i, k := range d.keys {
		if d.vals != nil {
			parts = append(parts, bare(k)+"="+bare(d.vals[i]))
		} else {
			parts = append(parts, bare(k))
		}
	}
	if d.vals != nil {
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
