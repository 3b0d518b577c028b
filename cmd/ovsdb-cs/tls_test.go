package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA makes a CA and a leaf certificate it signs, written as PEM files
// in dir with the given prefix.
func testCA(t *testing.T, dir, prefix string) (caFile, certFile, keyFile string, leaf tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: prefix + " CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: prefix + " peer"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, prefix+"-"+name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile = write("ca.pem", "CERTIFICATE", caDER)
	certFile = write("cert.pem", "CERTIFICATE", der)
	keyFile = write("key.pem", "PRIVATE KEY", keyDER)
	leaf, err = tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return caFile, certFile, keyFile, leaf
}

func TestLoadTLS(t *testing.T) {
	dir := t.TempDir()
	caFile, certFile, keyFile, serverCert := testCA(t, dir, "good")
	otherCA, _, _, otherCert := testCA(t, dir, "other")

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
