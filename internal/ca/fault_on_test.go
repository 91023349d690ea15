//go:build madoguchi_faults

package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestFaultHold: the tests' build holds Issue at the point and kind the
// environment names, writes the mark the crash test syncs on, and releases
// when the context ends; anywhere else it passes through.
func TestFaultHold(t *testing.T) {
	c := &CA{opts: Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	reserved := &certRow{RequestID: "131016-20260401-000001/auth", Kind: KindAuth, Serial: "1a2b"}
	signed := &certRow{RequestID: "131016-20260401-000001/sign", Kind: KindSign, Serial: "3c4d", CertDER: []byte{0x30}}
	tests := []struct {
		name       string
		hold, kind string
		point      faultPoint
		row        *certRow
		wantHold   bool
	}{
		{"reserved, any kind", "reserved", "", faultReserved, reserved, true},
		{"reserved, this kind", "reserved", "auth", faultReserved, reserved, true},
		{"reserved, another kind", "reserved", "sign", faultReserved, reserved, false},
		{"another point", "signed", "", faultReserved, reserved, false},
		{"signed", "signed", "sign", faultSigned, signed, true},
		{"reserved but already signed (a retry)", "reserved", "", faultReserved, signed, false},
		{"no switch", "", "", faultSigned, signed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mark := filepath.Join(t.TempDir(), "mark")
			t.Setenv(EnvFaultHold, tt.hold)
			t.Setenv(EnvFaultKind, tt.kind)
			t.Setenv(EnvFaultMark, mark)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan struct{})
			go func() { c.holdAt(ctx, tt.point, tt.row); close(done) }()
			if !tt.wantHold {
				select {
				case <-done:
				case <-time.After(30 * time.Second):
					t.Fatal("held where it should pass through")
				}
				if _, err := os.Stat(mark); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("mark written without a hold: %v", err)
				}
				return
			}
			var b []byte
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				var err error
				if b, err = os.ReadFile(mark); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("no mark written")
				}
			}
			if got := strings.Fields(string(b)); len(got) != 3 || got[0] != string(tt.point) || got[1] != tt.row.RequestID || got[2] != tt.row.Serial {
				t.Fatalf("mark %q, want point, request id and serial", b)
			}
			select {
			case <-done:
				t.Fatal("released before its context ended")
			default:
			}
			cancel()
			<-done
		})
	}
}

// waitMark waits for the fault mark and returns its fields: point, request
// id, serial.
func waitMark(t *testing.T, mark string) []string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if b, err := os.ReadFile(mark); err == nil {
			return strings.Fields(string(b))
		}
		if time.Now().After(deadline) {
			t.Fatal("Issue never reached the fault point")
		}
	}
}

// TestIssueResumesAfterFaultHold is the crash test in one process: Issue is
// held at a fault point and abandoned there; a second Issue of the same
// request returns the certificate of the serial reserved before the fault,
// and the CA holds exactly one certificate.
func TestIssueResumesAfterFaultHold(t *testing.T) {
	for _, p := range []faultPoint{faultReserved, faultSigned} {
		t.Run(string(p), func(t *testing.T) {
			e := newEnv(t)
			mark := filepath.Join(t.TempDir(), "mark")
			t.Setenv(EnvFaultHold, string(p))
			t.Setenv(EnvFaultKind, "")
			t.Setenv(EnvFaultMark, mark)
			req := signRequest(t, e, "fault-1/sign")
			held, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { _, err := e.ca.Issue(held, req); done <- err }()
			m := waitMark(t, mark)
			var stored int
			if err := e.pool.QueryRow(held, "SELECT count(*) FROM ca_certificates WHERE serial = $1 AND cert_der IS NOT NULL", m[2]).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if want := map[faultPoint]int{faultReserved: 0, faultSigned: 1}[p]; stored != want {
				t.Fatalf("at %s the CA stored %d certificates, want %d", p, stored, want)
			}
			cancel() // the process dies here
			<-done

			t.Setenv(EnvFaultHold, "")
			res, err := e.ca.Issue(context.Background(), req)
			if err != nil {
				t.Fatalf("the retry: %v", err)
			}
			if res.Serial != m[2] || res.Existing != (p == faultSigned) {
				t.Fatalf("the retry returned serial %s (existing %v), want the reserved %s", res.Serial, res.Existing, m[2])
			}
			rows, err := e.pool.Query(context.Background(), "SELECT cert_der FROM ca_certificates WHERE cert_der IS NOT NULL")
			if err != nil {
				t.Fatal(err)
			}
			ders, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
			if err != nil {
				t.Fatal(err)
			}
			if len(ders) != 1 {
				t.Fatalf("the CA signed %d certificates, want 1", len(ders))
			}
			cert, err := x509.ParseCertificate(ders[0])
			if err != nil || FormatSerial(cert.SerialNumber) != m[2] {
				t.Fatalf("the signed certificate is not the reserved serial %s: %v", m[2], err)
			}
		})
	}
}
