package monitor

// Row is one row of a table: its uuid and the values of the table's
// monitored columns. A Row is an immutable value; copying it is cheap and it
// never changes, even after the replica it came from moves on. The zero Row
// is not valid.
type Row struct {
	t   *TableSchema
	id  UUID
	enc string
}

// Valid reports whether r is a row (not the zero Row).
func (r Row) Valid() bool { return r.t != nil }

// UUID returns the row's uuid.
func (r Row) UUID() UUID { return r.id }

// Table returns the row's table.
func (r Row) Table() *TableSchema { return r.t }

// At returns the value of column i (the ColumnSchema.Index). It panics if
// i is out of range or r is the zero Row.
func (r Row) At(i int) Datum {
	c := r.t.Columns[i]
	return Datum{t: &c.Type, enc: rowDatum(r.enc, len(r.t.Columns), i)}
}

// Column returns the value of the named column, and false if the table has
// no such monitored column.
func (r Row) Column(name string) (Datum, bool) {
	if r.t == nil {
		return Datum{}, false
	}
	c := r.t.byName[name]
	if c == nil {
		return Datum{}, false
	}
	return r.At(c.Index), true
}

// Get returns the value of the named column, or the zero Datum (which reads
// as empty) if there is no such monitored column.
func (r Row) Get(name string) Datum {
	d, _ := r.Column(name)
	return d
}

// Equal reports whether r and o are the same row (table and uuid) with the
// same values.
func (r Row) Equal(o Row) bool { return r.t == o.t && r.id == o.id && r.enc == o.enc }

// MarshalJSON writes the row as an OVSDB <row>: an object with every
// monitored column, in column-name order.
func (r Row) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// String returns the row in OVSDB JSON notation.
func (r Row) String() string { return string(r.AppendJSON(nil)) }

// AppendJSON appends the row as an OVSDB <row> to b.
func (r Row) AppendJSON(b []byte) []byte {
	if r.t == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, c := range r.t.Columns {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, c.Name)
		b = append(b, ':')
		b = r.At(i).AppendJSON(b)
	}
	return append(b, '}')
}
