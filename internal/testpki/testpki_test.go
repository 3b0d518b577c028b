package testpki

import (
	"crypto/tls"
	"testing"

	"github.com/stretchr/testify/require"
)

// A client and a server from one PKI complete a mutual TLS handshake; the
// PEM files load back as a key pair.
func TestHandshakeAndFiles(t *testing.T) {
	p := New(t, "test")
	l, err := tls.Listen("tcp", "127.0.0.1:0", p.ServerTLS())
	require.NoError(t, err)
	defer l.Close()
	errc := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			err = c.(*tls.Conn).Handshake()
			c.Close()
		}
		errc <- err
	}()
	c, err := tls.Dial("tcp", l.Addr().String(), p.ClientTLS())
	require.NoError(t, err)
	c.Close()
	require.NoError(t, <-errc)

	_, certFile, keyFile := p.WriteFiles(t, t.TempDir(), "x")
	_, err = tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
}
