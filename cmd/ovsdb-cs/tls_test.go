package main

import (
	"crypto/tls"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/internal/testpki"
)

func TestLoadTLS(t *testing.T) {
	dir := t.TempDir()
	good, other := testpki.New(t, "good"), testpki.New(t, "other")
	caFile, certFile, keyFile := good.WriteFiles(t, dir, "good")
	otherCA, _, _ := other.WriteFiles(t, dir, "other")
	serverCert, otherCert := good.Peer, other.Peer

	// handshake runs a TLS handshake over loopback TCP (kernel-buffered, so
	// an aborted handshake cannot block either side) with deadlines.
	handshake := func(clientCfg *tls.Config, server tls.Certificate) error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(waitTimeout))
			_ = tls.Server(c, &tls.Config{Certificates: []tls.Certificate{server}}).Handshake()
		}()
		defer func() { <-done }()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(waitTimeout))
		return tls.Client(c, clientCfg).Handshake()
	}

	cfg, err := loadTLS(keyFile, certFile, caFile)
	if err != nil {
		t.Fatal(err)
	}
	// No host name check (the server is reached by IP, as OVS peers are).
	if err := handshake(cfg, serverCert); err != nil {
		t.Fatalf("handshake with a server signed by --ca-cert: %v", err)
	}
	if err := handshake(cfg, otherCert); err == nil || !strings.Contains(err.Error(), "not signed by --ca-cert") {
		t.Fatalf("handshake with a server signed by another CA: %v", err)
	}
	cfg2, err := loadTLS(keyFile, certFile, otherCA)
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(cfg2, serverCert); err == nil {
		t.Fatal("handshake succeeded against the wrong CA")
	}

	for _, tc := range []struct{ key, cert, ca, want string }{
		{keyFile, certFile, filepath.Join(dir, "missing.pem"), "--ca-cert"},
		{keyFile, certFile, keyFile, "no PEM certificate"},
		{certFile, certFile, caFile, "--certificate/--private-key"},
	} {
		if _, err := loadTLS(tc.key, tc.cert, tc.ca); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("loadTLS(%s, %s, %s) = %v, want an error about %s", tc.key, tc.cert, tc.ca, err, tc.want)
		}
	}
}
