// Package testpki makes throw-away certificate authorities for tests: a CA
// and leaf certificates it signs for 127.0.0.1 and ::1, valid for an hour
// around now, with TLS configurations that verify each side as OVS does
// (a server requires a client certificate from the same CA), and PEM files
// for programs that load them by name.
package testpki

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// PKI is a CA with one server and one client certificate.
type PKI struct {
	// Pool holds the CA certificate.
	Pool *x509.CertPool
	// Server and Client are leaf certificates for server and client
	// authentication; Peer is good for both.
	Server, Client, Peer tls.Certificate

	caDER []byte
	peer  leaf // Peer's DER and key, for WriteFiles
}

type leaf struct {
	der []byte
	key *ecdsa.PrivateKey
}

// New makes a CA named name and its leaf certificates. It fails t on error.
func New(t testing.TB, name string) *PKI {
	t.Helper()
	must := func(err error) {
		if err != nil {
			t.Helper()
			t.Fatalf("testpki: %v", err)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name + " CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(err)
	caCert, err := x509.ParseCertificate(caDER)
	must(err)
	issue := func(serial int64, cn string, usage ...x509.ExtKeyUsage) leaf {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  usage,
			IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		must(err)
		return leaf{der: der, key: key}
	}
	cert := func(l leaf) tls.Certificate {
		return tls.Certificate{Certificate: [][]byte{l.der}, PrivateKey: l.key}
	}
	p := &PKI{Pool: x509.NewCertPool(), caDER: caDER}
	p.Pool.AddCert(caCert)
	p.Server = cert(issue(2, name+" server", x509.ExtKeyUsageServerAuth))
	p.Client = cert(issue(3, name+" client", x509.ExtKeyUsageClientAuth))
	p.peer = issue(4, name+" peer", x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	p.Peer = cert(p.peer)
	return p
}

// ServerTLS returns a server configuration that presents Server and
// requires a client certificate from the same CA, as OVS does.
func (p *PKI) ServerTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.Server}, ClientCAs: p.Pool, ClientAuth: tls.RequireAndVerifyClientCert}
}

// ClientTLS returns a client configuration that presents Client and trusts
// the CA.
func (p *PKI) ClientTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.Client}, RootCAs: p.Pool}
}

// WriteFiles writes the CA certificate and Peer's certificate and key as
// PEM files named <prefix>-ca.pem, <prefix>-cert.pem and <prefix>-key.pem
// in dir, and returns their paths. It fails t on error.
func (p *PKI) WriteFiles(t testing.TB, dir, prefix string) (caFile, certFile, keyFile string) {
	t.Helper()
	keyDER, err := x509.MarshalPKCS8PrivateKey(p.peer.key)
	if err != nil {
		t.Fatalf("testpki: %v", err)
	}
	write := func(name, typ string, b []byte) string {
		path := filepath.Join(dir, prefix+"-"+name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatalf("testpki: %v", err)
		}
		return path
	}
	return write("ca.pem", "CERTIFICATE", p.caDER), write("cert.pem", "CERTIFICATE", p.peer.der), write("key.pem", "PRIVATE KEY", keyDER)
}

// Front returns a dial function for ssl: remotes whose servers speak
// plain text (the fake cluster's members): it dials through dial, puts a
// TLS server with ServerTLS in front of that connection, and returns the
// client's end, on which the caller runs its TLS client handshake. The
// server's end relays the decrypted bytes both ways until either side
// ends, then closes both. Nothing listens: the returned connection is
// in-memory (net.Pipe, so it works in a synctest bubble) and carries the
// addresses of the dialled connection. The TLS server's writes are queued,
// never blocking it: on an unbuffered pipe, a client that aborts the
// handshake with an alert while the server writes its next handshake
// message would deadlock with it, which sockets, with their buffers,
// never do.
func (p *PKI) Front(dial func(ctx context.Context, network, address string) (net.Conn, error)) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		back, err := dial(ctx, network, address)
		if err != nil {
			return nil, err
		}
		near, far := net.Pipe()
		front := tls.Server(newQueuedConn(far), p.ServerTLS())
		relay := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			_ = front.Close()
			_ = back.Close()
		}
		go relay(back, front)
		go relay(front, back)
		return &addrConn{Conn: near, local: back.LocalAddr(), remote: back.RemoteAddr()}, nil
	}
}

// addrConn is a connection with the addresses of another.
type addrConn struct {
	net.Conn
	local, remote net.Addr
}

func (c *addrConn) LocalAddr() net.Addr  { return c.local }
func (c *addrConn) RemoteAddr() net.Addr { return c.remote }

// queuedConn is a connection whose writes never block: Write queues a copy
// of the bytes for a goroutine that writes them in order. Close returns at
// once; the connection is closed once the queue is written or a write
// failed.
type queuedConn struct {
	net.Conn
	q       chan []byte
	closing chan struct{}
	once    sync.Once
}

func newQueuedConn(c net.Conn) *queuedConn {
	qc := &queuedConn{Conn: c, q: make(chan []byte, 1024), closing: make(chan struct{})}
	go qc.flush()
	return qc
}

func (c *queuedConn) Write(b []byte) (int, error) {
	select {
	case <-c.closing:
		return 0, net.ErrClosed
	default:
	}
	select {
	case c.q <- bytes.Clone(b):
		return len(b), nil
	case <-c.closing:
		return 0, net.ErrClosed
	}
}

func (c *queuedConn) Close() error {
	c.once.Do(func() { close(c.closing) })
	return nil
}

func (c *queuedConn) flush() {
	defer c.Conn.Close()
	for {
		select {
		case b := <-c.q:
			if _, err := c.Conn.Write(b); err != nil {
				return
			}
		case <-c.closing:
			for {
				select {
				case b := <-c.q:
					if _, err := c.Conn.Write(b); err != nil {
						return
					}
				default:
					return
				}
			}
		}
	}
}
