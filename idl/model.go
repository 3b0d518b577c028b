package idl

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"unsafe"

	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// tableModel is what a ClientDBModel says about one table before any schema
// is known: the Go type and the columns its tags name.
type tableModel struct {
	name    string
	typ     reflect.Type // the struct type (models are pointers to it)
	uuidIdx int          // field index of the "_uuid" string
	uuidOff uintptr      // and its offset
	fields  []fieldModel // tagged fields other than _uuid, in struct order
}

type fieldModel struct {
	column string
	name   string // Go field name
	index  int
	typ    reflect.Type
}

// dbModel is a ClientDBModel taken apart.
type dbModel struct {
	client model.ClientDBModel
	name   string
	tables map[string]*tableModel
	byType map[reflect.Type]*tableModel // by pointer type
	names  []string                     // sorted table names
}

func newDBModel(m model.ClientDBModel) (*dbModel, error) {
	types := model.NewPartialDatabaseModel(m).Types()
	if m.Name() == "" || len(types) == 0 {
		return nil, fmt.Errorf("%w: the ClientDBModel has no name or no tables", ErrModel)
	}
	d := &dbModel{client: m, name: m.Name(), tables: map[string]*tableModel{}, byType: map[reflect.Type]*tableModel{}}
	for name, pt := range types {
		st := pt.Elem()
		tm := &tableModel{name: name, typ: st, uuidIdx: -1}
		for i := range st.NumField() {
			f := st.Field(i)
			col := f.Tag.Get("ovsdb")
			switch {
			case col == "":
				continue
			case col == "_uuid":
				if f.Type != reflect.TypeFor[string]() {
					return nil, &ModelError{Table: name, Column: "_uuid", Field: f.Name, Reason: fmt.Sprintf("field type %s; want string", f.Type)}
				}
				tm.uuidIdx, tm.uuidOff = i, f.Offset
			default:
				tm.fields = append(tm.fields, fieldModel{column: col, name: f.Name, index: i, typ: f.Type})
			}
		}
		d.tables[name] = tm
		d.byType[pt] = tm
		d.names = append(d.names, name)
	}
	slices.Sort(d.names)
	return d, nil
}

// columns returns the monitored columns of each table: every column a model
// names (cs.WithColumns takes them).
func (d *dbModel) columns() map[string][]string {
	out := make(map[string][]string, len(d.tables))
	for name, tm := range d.tables {
		cols := make([]string, 0, len(tm.fields))
		for _, f := range tm.fields {
			cols = append(cols, f.column)
		}
		slices.Sort(cols)
		out[name] = cols
	}
	return out
}

// tableInfo is a table model bound to a server schema.
type tableInfo struct {
	*tableModel
	ts      *monitor.TableSchema
	ots     *ovsdb.TableSchema
	fields  []fieldInfo
	byCol   map[string]*fieldInfo
	indexes []*indexSpec // schema indexes first (schema order), then client indexes
	owner   *schemaInfo
}

type fieldInfo struct {
	fieldModel
	col    *monitor.ColumnSchema
	ocol   *ovsdb.ColumnSchema
	off    uintptr // field offset in the struct
	decode func(field unsafe.Pointer, d monitor.Datum)
	// zeroDefault is set when the Go zero value stands for the column's
	// default (empty optional, set or map; 0, "", false), so a default
	// datum needs no decoding. Not for a uuid scalar (its default is the
	// zero uuid's text) or a set with min 1.
	zeroDefault bool
}

// schemaInfo is a dbModel bound to one server schema.
type schemaInfo struct {
	db      *dbModel
	schema  *monitor.Schema
	odb     *ovsdb.DatabaseSchema
	dbm     model.DatabaseModel // libovsdb's, for its mapper
	tables  map[string]*tableInfo
	replica *monitor.Replica
}

// bind checks the model against the server's schema and returns every
// mismatch, each naming the table, column and types.
func (d *dbModel) bind(odb *ovsdb.DatabaseSchema, r *monitor.Replica) (*schemaInfo, error) {
	if odb == nil || r == nil {
		return nil, ErrNotSynced
	}
	ms := r.Schema()
	if odb.Name != d.name {
		return nil, fmt.Errorf("%w: the model is for database %q, the server's schema for %q", ErrModel, d.name, odb.Name)
	}
	si := &schemaInfo{db: d, schema: ms, odb: odb, tables: map[string]*tableInfo{}, replica: r}
	var errs []error
	for _, name := range d.names {
		tm := d.tables[name]
		ti, tErrs := bindTable(tm, odb, ms)
		errs = append(errs, tErrs...)
		if ti != nil {
			si.tables[name] = ti
		}
	}
	if len(errs) == 0 {
		for _, name := range d.names {
			ti := si.tables[name]
			specs, err := indexSpecs(ti, d.client.Indexes(name))
			if err != nil {
				errs = append(errs, err)
			}
			ti.indexes = specs
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	dbm, lerrs := model.NewDatabaseModel(*odb, d.client)
	if len(lerrs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrModel, errors.Join(lerrs...))
	}
	si.dbm = dbm
	for _, ti := range si.tables {
		ti.owner = si
	}
	return si, nil
}

func bindTable(tm *tableModel, odb *ovsdb.DatabaseSchema, ms *monitor.Schema) (*tableInfo, []error) {
	ots := odb.Table(tm.name)
	if ots == nil {
		return nil, []error{&ModelError{Table: tm.name, Reason: fmt.Sprintf("the server's %s schema has no such table", odb.Name)}}
	}
	ts := ms.Table(tm.name)
	if ts == nil {
		return nil, []error{&ModelError{Table: tm.name, Reason: "the table is not monitored"}}
	}
	if tm.uuidIdx < 0 {
		return nil, []error{&ModelError{Table: tm.name, Column: "_uuid", Reason: "the model has no string field tagged _uuid"}}
	}
	ti := &tableInfo{tableModel: tm, ts: ts, ots: ots, byCol: map[string]*fieldInfo{}}
	var errs []error
	for _, f := range tm.fields {
		ocol := ots.Column(f.column)
		col := ts.Column(f.column)
		if ocol == nil || col == nil {
			errs = append(errs, &ModelError{Table: tm.name, Column: f.column, Field: f.name,
				Reason: "the server's schema has no such column"})
			continue
		}
		want := ovsdb.NativeType(ocol)
		if f.typ != want {
			errs = append(errs, &ModelError{Table: tm.name, Column: f.column, Field: f.name,
				Reason: fmt.Sprintf("field type %s cannot hold the column's %s values; want %s", f.typ, col.Type.String(), want)})
			continue
		}
		zero := col.Type.Min == 0 || (col.Type.IsScalar() && col.Type.Key.Type != monitor.TypeUUID)
		ti.fields = append(ti.fields, fieldInfo{fieldModel: f, col: col, ocol: ocol, off: tm.typ.Field(f.index).Offset,
			decode: decoderFor(f.typ, &col.Type), zeroDefault: zero})
	}
	for i := range ti.fields {
		ti.byCol[ti.fields[i].column] = &ti.fields[i]
	}
	return ti, errs
}
