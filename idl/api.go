package idl

import (
	"context"
	"fmt"
	"reflect"

	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// API holds the reads and operation builders of libovsdb's client.API, with
// the same signatures, on a consistent view: the typed view (Client) or a
// transaction's view of the replica (Tx), whose reads the retry helper
// verifies. Every value a builder puts in an operation is checked against
// the server's schema first (a *ValueError names the table and column).
type API struct{ r reader }

func (a API) read(fn func(src source) error) error { return a.r.read(fn) }

// Get fills m with the row that m's _uuid or one of the schema's indexes
// (the first for which m has non-default values) designates, and returns
// ErrNotFound if there is none.
func (a API) Get(_ context.Context, m model.Model) error {
	return a.r.read(func(src source) error { return get(src, m) })
}

// List fills result (a pointer to a slice of models or of pointers to
// models) with every row of the table; if the slice has a capacity, at most
// that many.
func (a API) List(_ context.Context, result any) error {
	return a.r.read(func(src source) error {
		return collect(src, result, func(ti *tableInfo, yield func(monitor.Row) bool) {
			for _, r := range src.rows(ti) {
				if !yield(r) {
					return
				}
			}
		})
	})
}

// Create returns the insert operations for models. Fields at their default
// values are left out; a _uuid that is not a uuid is the row's named-uuid,
// which other values of the same transaction may refer to.
func (a API) Create(models ...model.Model) ([]ovsdb.Operation, error) {
	var ops []ovsdb.Operation
	err := a.r.read(func(src source) error {
		si := src.schema()
		named := namedUUIDs{}
		for _, m := range models {
			ti, v, err := modelTable(si, m)
			if err != nil {
				return err
			}
			row, err := ti.row(v.Elem(), "insert", named, nil, true)
			if err != nil {
				return err
			}
			op := ovsdb.Operation{Op: ovsdb.OperationInsert, Table: ti.name, Row: row}
			if id := ti.uuidOf(v.Elem()); id != "" {
				if _, err := monitor.ParseUUID(id); err == nil {
					op.UUID = id
				} else if isNamedUUID(id) {
					op.UUIDName = id
				} else {
					return &ValueError{Table: ti.name, Column: "_uuid", Op: "insert", Err: fmt.Errorf("%q is neither a uuid nor a named-uuid", id)}
				}
			}
			ops = append(ops, op)
		}
		return nil
	})
	return ops, err
}

// row builds the <row> of the struct value s: the columns of fields (field
// pointers), or with none every mutable non-default column (every
// non-default column if all is set, for inserts). Each value is checked.
func (ti *tableInfo) row(s reflect.Value, op string, named namedUUIDs, fields []any, all bool) (ovsdb.Row, error) {
	cols, err := ti.fieldColumns(s, fields)
	if err != nil {
		return nil, err
	}
	row := ovsdb.Row{}
	for i := range ti.fields {
		f := &ti.fields[i]
		fv := s.Field(f.index)
		if cols != nil {
			if !cols[f.column] {
				continue
			}
		} else if fv.IsZero() || (!all && !f.ocol.Mutable()) || isEmpty(fv) {
			continue
		}
		if _, err := datumOf(f, fv, named, false); err != nil {
			return nil, &ValueError{Table: ti.name, Column: f.column, Op: op, Err: err}
		}
		w, err := ovsdb.NativeToOvs(f.ocol, fv.Interface())
		if err != nil {
			return nil, &ValueError{Table: ti.name, Column: f.column, Op: op, Err: err}
		}
		row[f.column] = w
	}
	return row, nil
}

func isEmpty(v reflect.Value) bool {
	return (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() == 0
}

// fieldColumns maps field pointers into s to their columns (nil if none
// are given).
func (ti *tableInfo) fieldColumns(s reflect.Value, fields []any) (map[string]bool, error) {
	if len(fields) == 0 {
		return nil, nil
	}
	base := s.Addr().Pointer()
	out := make(map[string]bool, len(fields))
	for _, fp := range fields {
		pv := reflect.ValueOf(fp)
		if pv.Kind() != reflect.Pointer {
			return nil, fmt.Errorf("%w: field %T is not a pointer to a field of the model", ErrWrongType, fp)
		}
		off := pv.Pointer() - base
		found := false
		for i := range ti.fields {
			f := &ti.fields[i]
			if ti.typ.Field(f.index).Offset == off && pv.Type().Elem() == f.typ {
				out[f.column] = true
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("%w: %T does not point to a column field of the model passed with it", ErrWrongType, fp)
		}
	}
	return out, nil
}

// Where selects the rows the models designate: for each model its _uuid,
// or the first index (schema, then client) with a value and rows in the
// view; operations then name each row by _uuid. A model matching no row
// selects by its _uuid or first schema index with non-default values.
func (a API) Where(models ...model.Model) *Conditional {
	return &Conditional{a: a, models: models}
}

// WhereCache selects the rows of the view that predicate, a func(*Model)
// bool, accepts.
func (a API) WhereCache(predicate any) *Conditional {
	return &Conditional{a: a, pred: predicate}
}

// WhereAny selects the rows matching any of conds (one operation per
// condition).
func (a API) WhereAny(m model.Model, conds ...model.Condition) *Conditional {
	return &Conditional{a: a, models: []model.Model{m}, conds: conds, explicit: true}
}

// WhereAll selects the rows matching all of conds (one operation).
func (a API) WhereAll(m model.Model, conds ...model.Condition) *Conditional {
	return &Conditional{a: a, models: []model.Model{m}, conds: conds, explicit: true, all: true}
}

// Conditional is a selection of rows (Where, WhereCache, WhereAny,
// WhereAll) and the operations on them, as libovsdb's ConditionalAPI.
type Conditional struct {
	a        API
	models   []model.Model
	pred     any
	conds    []model.Condition
	explicit bool
	all      bool
}

// selection resolves the conditional on src: the table and the where
// clauses, one per operation.
func (c *Conditional) selection(src source) (*tableInfo, [][]ovsdb.Condition, error) {
	si := src.schema()
	uuidWhere := func(r monitor.Row) []ovsdb.Condition {
		return []ovsdb.Condition{ovsdb.NewCondition("_uuid", ovsdb.ConditionEqual, ovsdb.UUID{GoUUID: r.UUID().String()})}
	}
	switch {
	case c.pred != nil:
		ti, call, err := predicateOf(si, c.pred)
		if err != nil {
			return nil, nil, err
		}
		var wheres [][]ovsdb.Condition
		for _, r := range src.rows(ti) {
			if call(ti.decodeRow(r)) {
				wheres = append(wheres, uuidWhere(r))
			}
		}
		return ti, wheres, nil
	case len(c.models) == 0:
		return nil, nil, fmt.Errorf("%w: Where needs at least one model", ErrWrongType)
	}
	ti, v, err := modelTable(si, c.models[0])
	if err != nil {
		return nil, nil, err
	}
	if c.explicit {
		wheres, err := c.explicitWheres(si, ti, v)
		return ti, wheres, err
	}
	var wheres [][]ovsdb.Condition
	seen := map[monitor.UUID]bool{}
	for _, m := range c.models {
		mt, mv, err := modelTable(si, m)
		if err != nil {
			return nil, nil, err
		}
		if mt != ti {
			return nil, nil, fmt.Errorf("%w: Where with models of tables %q and %q", ErrWrongType, ti.name, mt.name)
		}
		found := false
		match(src, ti, mv.Elem(), true, func(r monitor.Row) bool {
			found = true
			if !seen[r.UUID()] {
				seen[r.UUID()] = true
				wheres = append(wheres, uuidWhere(r))
			}
			return true
		})
		if !found {
			w, err := ti.modelWhere(mv.Elem())
			if err != nil {
				return nil, nil, err
			}
			wheres = append(wheres, w)
		}
	}
	return ti, wheres, nil
}

// modelWhere selects by the model's values when it matched no row: its
// _uuid, or the first schema index whose columns are all set.
func (ti *tableInfo) modelWhere(s reflect.Value) ([]ovsdb.Condition, error) {
	if id := ti.uuidOf(s); id != "" {
		if _, err := monitor.ParseUUID(id); err != nil {
			return nil, &ValueError{Table: ti.name, Column: "_uuid", Op: "select", Err: err}
		}
		return []ovsdb.Condition{ovsdb.NewCondition("_uuid", ovsdb.ConditionEqual, ovsdb.UUID{GoUUID: id})}, nil
	}
next:
	for _, spec := range ti.indexes {
		if !spec.schema {
			break
		}
		var where []ovsdb.Condition
		for _, ic := range spec.cols {
			fv := s.Field(ic.f.index)
			if fv.IsZero() {
				continue next
			}
			if _, err := datumOf(ic.f, fv, nil, false); err != nil {
				return nil, &ValueError{Table: ti.name, Column: ic.f.column, Op: "select", Err: err}
			}
			w, err := ovsdb.NativeToOvs(ic.f.ocol, fv.Interface())
			if err != nil {
				return nil, &ValueError{Table: ti.name, Column: ic.f.column, Op: "select", Err: err}
			}
			where = append(where, ovsdb.NewCondition(ic.f.column, ovsdb.ConditionEqual, w))
		}
		return where, nil
	}
	return nil, fmt.Errorf("%w: the %s model has neither a _uuid nor values for a schema index", ErrNotFound, ti.name)
}

// explicitWheres converts WhereAny/WhereAll conditions with libovsdb's
// mapper, after checking each value against the column's type.
func (c *Conditional) explicitWheres(si *schemaInfo, ti *tableInfo, v reflect.Value) ([][]ovsdb.Condition, error) {
	info, err := si.dbm.NewModelInfo(v.Interface())
	if err != nil {
		return nil, err
	}
	var wheres [][]ovsdb.Condition
	var all []ovsdb.Condition
	for _, cond := range c.conds {
		col, err := info.ColumnByPtr(cond.Field)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrWrongType, err)
		}
		if f := ti.byCol[col]; f != nil && reflect.TypeOf(cond.Value) == f.typ {
			if _, err := datumOf(f, reflect.ValueOf(cond.Value), nil, true); err != nil {
				return nil, &ValueError{Table: ti.name, Column: col, Op: "select", Err: err}
			}
		}
		oc, err := si.dbm.Mapper.NewCondition(info, cond.Field, cond.Function, cond.Value)
		if err != nil {
			return nil, &ValueError{Table: ti.name, Column: col, Op: "select", Err: err}
		}
		if c.all {
			all = append(all, *oc)
		} else {
			wheres = append(wheres, []ovsdb.Condition{*oc})
		}
	}
	if c.all {
		wheres = append(wheres, all)
	}
	return wheres, nil
}

// List fills result with the selected rows of the view (Where and
// WhereCache selections).
func (c *Conditional) List(_ context.Context, result any) error {
	if c.explicit {
		return fmt.Errorf("%w: List of a WhereAny/WhereAll selection; use WhereCache", ErrWrongType)
	}
	return c.a.r.read(func(src source) error {
		return collect(src, result, func(ti *tableInfo, yield func(monitor.Row) bool) {
			if c.pred != nil {
				_, call, err := predicateOf(src.schema(), c.pred)
				if err != nil {
					return
				}
				for _, r := range src.rows(ti) {
					if call(ti.decodeRow(r)) && !yield(r) {
						return
					}
				}
				return
			}
			seen := map[monitor.UUID]bool{}
			for _, m := range c.models {
				mv := reflect.ValueOf(m)
				if mv.Kind() != reflect.Pointer || mv.Type().Elem() != ti.typ {
					continue
				}
				stop := false
				match(src, ti, mv.Elem(), true, func(r monitor.Row) bool {
					if seen[r.UUID()] {
						return true
					}
					seen[r.UUID()] = true
					stop = !yield(r)
					return !stop
				})
				if stop {
					return
				}
			}
		})
	})
}

// build resolves the selection and makes one operation per where clause.
func (c *Conditional) build(m model.Model, mk func(ti *tableInfo, where []ovsdb.Condition) (ovsdb.Operation, error)) ([]ovsdb.Operation, error) {
	var ops []ovsdb.Operation
	err := c.a.r.read(func(src source) error {
		ti, wheres, err := c.selection(src)
		if err != nil {
			return err
		}
		if m != nil {
			mt, _, err := modelTable(src.schema(), m)
			if err != nil {
				return err
			}
			if mt != ti {
				return fmt.Errorf("%w: a %s model for a selection of table %q", ErrWrongType, mt.name, ti.name)
			}
		}
		for _, w := range wheres {
			op, err := mk(ti, w)
			if err != nil {
				return err
			}
			ops = append(ops, op)
		}
		return nil
	})
	return ops, err
}

// Update returns update operations setting, in every selected row, the
// columns of fields (pointers to fields of m), or with none every mutable
// column at a non-default value in m.
func (c *Conditional) Update(m model.Model, fields ...any) ([]ovsdb.Operation, error) {
	return c.build(m, func(ti *tableInfo, where []ovsdb.Condition) (ovsdb.Operation, error) {
		row, err := ti.row(reflect.ValueOf(m).Elem(), "update", namedUUIDs{}, fields, false)
		if err != nil {
			return ovsdb.Operation{}, err
		}
		for col := range row {
			if f := ti.byCol[col]; f != nil && !f.ocol.Mutable() {
				return ovsdb.Operation{}, &ValueError{Table: ti.name, Column: col, Op: "update", Err: fmt.Errorf("column is immutable")}
			}
		}
		if len(row) == 0 {
			return ovsdb.Operation{}, fmt.Errorf("%w: update of table %q sets no column", ErrValue, ti.name)
		}
		return ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: ti.name, Row: row, Where: where}, nil
	})
}

// Mutate returns mutate operations applying mutations (model.Mutation:
// a pointer to a field of m, a mutator, a value) to every selected row.
// Values of insert and delete are checked element by element against the
// column's type; arithmetic mutators against the key type.
func (c *Conditional) Mutate(m model.Model, mutations ...model.Mutation) ([]ovsdb.Operation, error) {
	return c.build(m, func(ti *tableInfo, where []ovsdb.Condition) (ovsdb.Operation, error) {
		si := &ti.owner.dbm
		info, err := si.NewModelInfo(m)
		if err != nil {
			return ovsdb.Operation{}, err
		}
		var muts []ovsdb.Mutation
		for _, mu := range mutations {
			col, err := info.ColumnByPtr(mu.Field)
			if err != nil {
				return ovsdb.Operation{}, fmt.Errorf("%w: %w", ErrWrongType, err)
			}
			if err := checkMutation(ti, col, mu); err != nil {
				return ovsdb.Operation{}, err
			}
			om, err := si.Mapper.NewMutation(info, col, mu.Mutator, mu.Value)
			if err != nil {
				return ovsdb.Operation{}, &ValueError{Table: ti.name, Column: col, Op: "mutate", Err: err}
			}
			muts = append(muts, *om)
		}
		if len(muts) == 0 {
			return ovsdb.Operation{}, fmt.Errorf("%w: mutate of table %q with no mutation", ErrValue, ti.name)
		}
		return ovsdb.Operation{Op: ovsdb.OperationMutate, Table: ti.name, Mutations: muts, Where: where}, nil
	})
}

func checkMutation(ti *tableInfo, col string, mu model.Mutation) error {
	f := ti.byCol[col]
	if f == nil {
		return &ValueError{Table: ti.name, Column: col, Op: "mutate", Err: fmt.Errorf("no such column in the model")}
	}
	v := reflect.ValueOf(mu.Value)
	var err error
	switch {
	case mu.Mutator == ovsdb.MutateOperationInsert || mu.Mutator == ovsdb.MutateOperationDelete:
		t := f.col.Type
		t.Min, t.Max = 0, monitor.Unlimited
		if t.IsMap() && mu.Mutator == ovsdb.MutateOperationDelete && v.Kind() == reflect.Slice {
			t.Value = monitor.BaseType{} // delete by keys: a set of keys
		}
		if t.IsScalar() {
			err = fmt.Errorf("insert and delete apply to sets and maps")
			break
		}
		_, err = datumOfType(&t, v, namedUUIDs{})
	default:
		_, err = atomOf(&f.col.Type.Key, v, nil)
	}
	if err != nil {
		return &ValueError{Table: ti.name, Column: col, Op: "mutate", Err: err}
	}
	return nil
}

// Delete returns delete operations for the selected rows.
func (c *Conditional) Delete() ([]ovsdb.Operation, error) {
	return c.build(nil, func(ti *tableInfo, where []ovsdb.Condition) (ovsdb.Operation, error) {
		return ovsdb.Operation{Op: ovsdb.OperationDelete, Table: ti.name, Where: where}, nil
	})
}

// Wait returns wait operations: until (== or !=) the selected rows,
// projected on the columns of fields, equal m's values, within timeout
// milliseconds (nil for none). With m nil the wait has no rows: it waits
// until (==) no row matches, or (!=) some row does. Send the operations
// with Transact or TransactFunc, which keep "rows" even when empty.
func (c *Conditional) Wait(until ovsdb.WaitCondition, timeout *int, m model.Model, fields ...any) ([]ovsdb.Operation, error) {
	return c.build(m, func(ti *tableInfo, where []ovsdb.Condition) (ovsdb.Operation, error) {
		op := ovsdb.Operation{Op: ovsdb.OperationWait, Table: ti.name, Timeout: timeout, Where: where, Until: string(until), Rows: []ovsdb.Row{}}
		if m == nil {
			op.Columns = []string{"_uuid"}
			return op, nil
		}
		row, err := ti.row(reflect.ValueOf(m).Elem(), "wait", nil, fields, true)
		if err != nil {
			return ovsdb.Operation{}, err
		}
		for col := range row {
			op.Columns = append(op.Columns, col)
		}
		op.Rows = append(op.Rows, row)
		return op, nil
	})
}
