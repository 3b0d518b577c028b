package ovsdbserver

import (
	"context"
	"encoding/json"
	"sync"
)

// Server is a standalone (not clustered) ovsdb-server holding one database.
// Its Member methods (Remote, Kill, Stop, Cont, Restart, LogPath...) act on
// its single process.
type Server struct {
	*Member
	l         *launch
	closeOnce sync.Once
	closeErr  error
}

// NewStandalone creates a standalone database from schema (the JSON text of
// an .ovsschema file) with `ovsdb-tool create` and serves it with one
// ovsdb-server on 127.0.0.1. It returns once the server answers list_dbs.
// Close stops it. On error nothing is left running.
func NewStandalone(ctx context.Context, schema []byte, opts ...Option) (*Server, error) {
	l, schemaPath, err := prepare(schema, opts, false)
	if err != nil {
		return nil, err
	}
	ctx, cancel := l.env.bound(ctx)
	defer cancel()
	err = l.startMembers(ctx, 1, func(ctx context.Context) error {
		return l.runTool(ctx, "create", l.members[0].DBPath(), schemaPath)
	}, nil)
	if err != nil {
		l.removeDir()
		return nil, err
	}
	s := &Server{Member: l.members[0], l: l}
	l.env.cfg.logger.Info("started standalone ovsdb-server", "db", l.env.db, "remote", s.Remote(), "dir", l.env.dir)
	return s, nil
}

// DB is the name of the database.
func (s *Server) DB() string { return s.l.env.db }

// Dir is the directory holding the server's files.
func (s *Server) Dir() string { return s.l.env.dir }

// Transact runs one transaction (see Cluster.Transact).
func (s *Server) Transact(ctx context.Context, ops ...any) ([]json.RawMessage, error) {
	ctx, cancel := s.l.env.bound(ctx)
	defer cancel()
	return transact(ctx, s.Remote(), s.l.env.db, ops)
}

// Dump returns the database contents (see Cluster.Dump).
func (s *Server) Dump(ctx context.Context) (Contents, error) {
	ctx, cancel := s.l.env.bound(ctx)
	defer cancel()
	return dump(ctx, s.Remote(), s.l.env.db, s.l.schema)
}

// LogTail returns the last n lines of the server's log.
func (s *Server) LogTail(n int) string { return s.l.logTails(n) }

// Close stops the server (SIGCONT, SIGTERM, then SIGKILL after 5 s) and
// removes its directory unless it was given with WithDir. It is safe to call
// more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.l.stopAll()
		s.l.removeDir()
	})
	return s.closeErr
}
