package jsonrpc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/internal/testpki"
)

// tlsServer listens on loopback with cfg and completes the server side of
// every handshake; it returns a dial function that reaches it whatever the
// address, and a channel of the server names the clients sent (SNI).
func tlsServer(t *testing.T, cfg *tls.Config) (func(ctx context.Context, network, address string) (net.Conn, error), <-chan string) {
	t.Helper()
	names := make(chan string, 10)
	cfg = cfg.Clone()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		names <- hello.ServerName
		return nil, nil
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(realTimeout))
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, l.Addr().String())
	}
	return dial, names
}

func TestDialRemote(t *testing.T) {
	pki, rogue := testpki.New(t, "ovsdb"), testpki.New(t, "rogue")
	dial, names := tlsServer(t, pki.ServerTLS())
	ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
	defer cancel()
	remote := func(s string) Remote {
		r, err := ParseRemote(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	// A server certificate from the CA, for the remote's IP address: the
	// ServerName defaults to the host, so the certificate is checked
	// against 127.0.0.1 (Go sends no SNI for an IP address).
	cfg := pki.ClientTLS()
	nc, err := DialRemote(ctx, remote("ssl:127.0.0.1:6641"), dial, cfg)
	if err != nil {
		t.Fatalf("good CA: %v", err)
	}
	tc, ok := nc.(*tls.Conn)
	if !ok || !tc.ConnectionState().HandshakeComplete {
		t.Fatalf("good CA: %T, want a TLS connection with its handshake done", nc)
	}
	nc.Close()
	if cfg.ServerName != "" {
		t.Errorf("the caller's configuration was changed: ServerName %q", cfg.ServerName)
	}
	<-names

	// A host name is the ServerName (sent as SNI) and must match the
	// certificate, which names only IP addresses.
	_, err = DialRemote(ctx, remote("ssl:localhost:6641"), dial, pki.ClientTLS())
	var herr x509.HostnameError
	if !errors.As(err, &herr) || !strings.Contains(err.Error(), "TLS handshake") {
		t.Errorf("host name: %v, want a TLS host name error", err)
	}
	if sni := <-names; sni != "localhost" {
		t.Errorf("SNI %q, want localhost", sni)
	}
	// A ServerName of the caller's is kept.
	cfg = pki.ClientTLS()
	cfg.ServerName = "127.0.0.1"
	nc, err = DialRemote(ctx, remote("ssl:localhost:6641"), dial, cfg)
	if err != nil {
		t.Fatalf("explicit ServerName: %v", err)
	}
	nc.Close()
	<-names

	// A server certificate from another CA.
	rdial, _ := tlsServer(t, rogue.ServerTLS())
	_, err = DialRemote(ctx, remote("ssl:127.0.0.1:6641"), rdial, pki.ClientTLS())
	var uerr x509.UnknownAuthorityError
	if !errors.As(err, &uerr) || !strings.Contains(err.Error(), "TLS handshake") {
		t.Errorf("wrong CA: %v, want an unknown-authority TLS handshake error", err)
	}

	// tcp: is dialled as it is; dial errors are returned as they are.
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	nc, err = DialRemote(ctx, remote("tcp:"+plain.Addr().String()), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, isTLS := nc.(*tls.Conn); isTLS {
		t.Error("tcp: remote dialled with TLS")
	}
	nc.Close()
	refused := errors.New("refused")
	_, err = DialRemote(ctx, remote("ssl:127.0.0.1"), func(context.Context, string, string) (net.Conn, error) { return nil, refused }, pki.ClientTLS())
	if !errors.Is(err, refused) {
		t.Errorf("dial error: %v, want %v", err, refused)
	}

	// What cannot be dialled.
	for _, tc := range []struct {
		remote string
		tls    *tls.Config
	}{{"ssl:127.0.0.1", nil}, {"ptcp:0", nil}, {"pssl:0", pki.ClientTLS()}} {
		if _, err := DialRemote(ctx, remote(tc.remote), dial, tc.tls); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", tc.remote, err)
		}
	}
}
