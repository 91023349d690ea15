package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := pem.Decode(b)
	if p == nil {
		t.Fatalf("%s: not PEM", path)
	}
	c, err := x509.ParseCertificate(p.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRunMakesTheCAAndKeepsIt: the CA, the servers' certificate for 127.0.0.1 and one client
// certificate per identity, each chaining to the CA with the identity as common name; a second
// run keeps them all.
func TestRunMakesTheCAAndKeepsIt(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir, []string{"gateway", "terminal:T0001"}); err != nil {
		t.Fatal(err)
	}
	ca := readCert(t, filepath.Join(dir, "ca.pem"))
	roots := x509.NewCertPool()
	roots.AddCert(ca)

	srv := readCert(t, filepath.Join(dir, "server.pem"))
	if _, err := srv.Verify(x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Fatalf("server certificate for 127.0.0.1: %v", err)
	}
	if !srv.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("server IPs %v", srv.IPAddresses)
	}
	term := readCert(t, filepath.Join(dir, "terminal-T0001.pem"))
	if term.Subject.CommonName != "terminal:T0001" {
		t.Fatalf("CN %q", term.Subject.CommonName)
	}
	if _, err := term.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("client certificate: %v", err)
	}
	if _, err := term.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Fatal("a client certificate serves as a server's")
	}
	if fi, err := os.Stat(filepath.Join(dir, "terminal-T0001.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}

	before, _ := os.ReadFile(filepath.Join(dir, "gateway.pem"))
	caBefore, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err := run(dir, []string{"gateway", "caworker"}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "gateway.pem"))
	caAfter, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if !bytes.Equal(before, after) || !bytes.Equal(caBefore, caAfter) {
		t.Fatal("a second run replaced existing certificates")
	}
	if c := readCert(t, filepath.Join(dir, "caworker.pem")); c.Subject.CommonName != "caworker" {
		t.Fatalf("new identity CN %q", c.Subject.CommonName)
	}
}
