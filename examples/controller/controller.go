// Package controller is an example OVN_Northbound controller on package
// idl: it watches Logical_Switch and Logical_Switch_Port, keeps a derived
// view (each switch's port names), and writes back with the retry helper:
// every port it sees gets external_ids:ctl-seen set and, in the same
// transaction, NB_Global.nb_cfg is incremented and NB_Global.external_ids
// gets the key "seen-<port uuid>" (so nb_cfg equals the number of such keys
// when every transaction landed once). The build function
// reads whether the port is already marked, so a transaction retried after
// a lost connection (whose outcome is unknown) lands exactly once.
package controller

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"

	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/idl"
)

// SeenKey is the external_ids key the controller sets on every port.
const SeenKey = "ctl-seen"

// Controller keeps Switches, the derived view, and marks ports.
type Controller struct {
	cl  *idl.Client
	log logr.Logger

	mu       sync.Mutex
	switches map[string][]string // switch name -> sorted port names
	wake     chan struct{}
	pending  map[string]bool
}

// Model returns the ClientDBModel the controller needs: the generated
// models of the tables it reads and writes, with a client index on the
// ports' owner.
func Model() (model.ClientDBModel, error) {
	m, err := model.NewClientDBModel("OVN_Northbound", map[string]model.Model{
		nbdb.LogicalSwitchTable:     &nbdb.LogicalSwitch{},
		nbdb.LogicalSwitchPortTable: &nbdb.LogicalSwitchPort{},
		nbdb.NBGlobalTable:          &nbdb.NBGlobal{},
	})
	if err != nil {
		return m, err
	}
	m.SetIndexes(map[string][]model.ClientIndex{
		nbdb.LogicalSwitchPortTable: {{Columns: []model.ColumnKey{{Column: "external_ids", Key: SeenKey}}}},
	})
	return m, nil
}

// New returns a controller on cl; add it before cl.Run starts.
func New(cl *idl.Client, log logr.Logger) *Controller {
	c := &Controller{cl: cl, log: log, switches: map[string][]string{}, wake: make(chan struct{}, 1), pending: map[string]bool{}}
	cl.AddEventHandler(&idl.EventHandlerFuncs{
		AddFunc:    func(table string, m model.Model) { c.changed(table, m) },
		UpdateFunc: func(table string, _, m model.Model) { c.changed(table, m) },
		DeleteFunc: func(table string, m model.Model) { c.changed(table, m) },
	}, nbdb.LogicalSwitchTable, nbdb.LogicalSwitchPortTable)
	return c
}

// changed runs on the client's goroutine: it must not wait for a
// transaction, so it rebuilds the derived view and queues the work.
func (c *Controller) changed(table string, m model.Model) {
	if p, ok := m.(*nbdb.LogicalSwitchPort); ok && p.ExternalIDs[SeenKey] == "" {
		c.mu.Lock()
		c.pending[p.UUID] = true
		c.mu.Unlock()
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	c.rebuild()
}

// rebuild recomputes the derived view from the typed view.
func (c *Controller) rebuild() {
	view := map[string][]string{}
	err := c.cl.View(func(v idl.API) error {
		var sws []nbdb.LogicalSwitch
		if err := v.List(context.Background(), &sws); err != nil {
			return err
		}
		for _, sw := range sws {
			names := []string{}
			for _, id := range sw.Ports {
				p, err := idl.Get[nbdb.LogicalSwitchPort](v, id)
				if err == nil {
					names = append(names, p.Name)
				}
			}
			slices.Sort(names)
			view[sw.Name] = names
		}
		return nil
	})
	if err != nil {
		c.log.Error(err, "cannot read the view")
		return
	}
	c.mu.Lock()
	c.switches = view
	c.mu.Unlock()
}

// Switches returns a copy of the derived view.
func (c *Controller) Switches() map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.switches)
}

// Run marks the queued ports until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.wake:
		}
		c.mu.Lock()
		ids := slices.Sorted(maps.Keys(c.pending))
		clear(c.pending)
		c.mu.Unlock()
		for _, id := range ids {
			if err := c.mark(ctx, id); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				c.log.Error(err, "cannot mark port", "port", id)
			}
		}
	}
}

// mark sets the port's SeenKey and counts it in NB_Global.nb_cfg, once.
func (c *Controller) mark(ctx context.Context, id string) error {
	_, err := c.cl.TransactFunc(ctx, func(tx *idl.Tx) ([]ovsdb.Operation, error) {
		p, err := idl.Get[nbdb.LogicalSwitchPort](tx, id)
		if errors.Is(err, idl.ErrNotFound) || (err == nil && p.ExternalIDs[SeenKey] != "") {
			return nil, nil // gone, or marked already (perhaps by a retried transaction)
		}
		if err != nil {
			return nil, err
		}
		globals, err := idl.List[nbdb.NBGlobal](tx, nil)
		if err != nil || len(globals) != 1 {
			return nil, err
		}
		ops, err := tx.Where(p).Mutate(p, model.Mutation{Field: &p.ExternalIDs, Mutator: ovsdb.MutateOperationInsert, Value: map[string]string{SeenKey: p.Name}})
		if err != nil {
			return nil, err
		}
		g := globals[0]
		count, err := tx.Where(g).Mutate(g,
			model.Mutation{Field: &g.NbCfg, Mutator: ovsdb.MutateOperationAdd, Value: 1},
			model.Mutation{Field: &g.ExternalIDs, Mutator: ovsdb.MutateOperationInsert, Value: map[string]string{"seen-" + id: "1"}})
		if err != nil {
			return nil, err
		}
		return append(ops, count...), nil
	})
	return err
}
