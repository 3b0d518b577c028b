package jsonrpc

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
)

// DialRemote opens a connection to r, an active remote (tcp:, ssl:,
// unix:), with dial (nil: a net.Dialer). For ssl: it then runs the TLS
// client handshake, bounded by ctx, with a clone of tlsConfig whose empty
// ServerName is set to r's host, and returns the TLS connection; if the
// handshake fails, the connection is closed. Errors wrap the cause
// (errors.Is and errors.As see it), a failed handshake as "TLS handshake:
// ...", and do not name r: callers add it. An ssl: remote without a
// tlsConfig, or a passive remote, is an error wrapping ErrInvalidConfig.
//
// Session's attempts dial with it; so do callers that connect on a
// session's behalf (a leader hunt for a Manual session).
func DialRemote(ctx context.Context, r Remote, dial func(ctx context.Context, network, address string) (net.Conn, error), tlsConfig *tls.Config) (net.Conn, error) {
	if r.IsPassive() {
		return nil, fmt.Errorf("%w: cannot dial passive remote %s", ErrInvalidConfig, r)
	}
	if r.IsTLS() && tlsConfig == nil {
		return nil, fmt.Errorf("%w: ssl remote %s needs a TLS configuration", ErrInvalidConfig, r)
	}
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	nc, err := dial(ctx, r.Network(), r.Address())
	if err != nil || !r.IsTLS() {
		return nc, err
	}
	cfg := tlsConfig.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = r.Host
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	return tc, nil
}
