package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"testing"

	"github.com/madoguchi/madoguchi/internal/ca/profile"
)

// fakeCRLs records what the CA asks of the CRL publisher and fails while
// fail is set.
type fakeCRLs struct {
	mu    sync.Mutex
	calls []string
	fail  error
}

func (f *fakeCRLs) EnsurePartition(_ context.Context, kind Kind, partition, repositoryURL, runID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%s %s %s %s", kind, partition, repositoryURL, runID))
	return f.fail
}

func (f *fakeCRLs) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

// The database assigns every reservation the partition its certificate's
// distribution point names: the municipality for signing, serial mod 64
// for user authentication (computed here independently of both).
func TestCRLPartitionOfIssuedCertificates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	shards := map[string]bool{}
	for i := range 12 {
		kind, req := KindAuth, authRequest(t, e, fmt.Sprintf("part-%d/auth", i))
		if i%4 == 0 {
			kind, req = KindSign, signRequest(t, e, fmt.Sprintf("part-%d/sign", i))
		}
		res, err := e.ca.Issue(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(res.CertificateDER)
		if err != nil {
			t.Fatal(err)
		}
		want := "131016"
		if kind == KindAuth {
			want = fmt.Sprintf("s%02d", new(big.Int).Mod(cert.SerialNumber, big.NewInt(64)).Int64())
			shards[want] = true
		}
		var stored string
		if err := e.pool.QueryRow(ctx, "SELECT crl_partition FROM ca_certificates WHERE serial = $1", res.Serial).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		var listed bool
		if err := e.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM crl_partitions WHERE partition = $1 AND repository_url = $2)`,
			want, "http://repo.test:8090").Scan(&listed); err != nil {
			t.Fatal(err)
		}
		dp := "http://repo.test:8090/crl/" + string(kind) + "/" + want + ".crl"
		if stored != want || !listed || len(cert.CRLDistributionPoints) != 1 || cert.CRLDistributionPoints[0] != dp {
			t.Errorf("%s %s: stored partition %q, listed %v, DP %v; want %s", kind, res.Serial, stored, listed, cert.CRLDistributionPoints, dp)
		}
	}
	if len(shards) < 2 {
		t.Errorf("9 user-authentication certificates fell in %d shard(s)", len(shards))
	}
}

// Before signing, the CA has the certificate's partition CRL ensured; when
// that fails nothing is signed and the retry completes the same
// reservation. A reservation whose stored partition is not the profile's is
// never signed.
func TestIssueEnsuresPartitionCRLFirst(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	f := &fakeCRLs{fail: errors.New("publisher down")}
	e.ca.SetPartitionCRLs(f)

	req := authRequest(t, e, "ensure-1/auth")
	if _, err := e.ca.Issue(ctx, req); err == nil || IsPermanent(err) || !errors.Is(err, f.fail) {
		t.Fatalf("Issue with the publisher down = %v, want a retryable error wrapping it", err)
	}
	row, err := getCert(ctx, e.pool, "request_id = $1", req.RequestID)
	if err != nil || row == nil || row.CertDER != nil {
		t.Fatalf("after the failure: row %+v, %v; want an unsigned reservation", row, err)
	}
	wantCall := fmt.Sprintf("auth %s http://repo.test:8090 issuance/%s", row.CRLPartition, row.Serial)
	if calls := f.take(); len(calls) != 1 || calls[0] != wantCall {
		t.Fatalf("calls %q, want [%q]", calls, wantCall)
	}

	f.mu.Lock()
	f.fail = nil
	f.mu.Unlock()
	res, err := e.ca.Issue(ctx, req)
	if err != nil || res.Serial != row.Serial || res.Existing {
		t.Fatalf("retry = %+v, %v; want the reservation %s signed now", res, err, row.Serial)
	}
	if calls := f.take(); len(calls) != 1 || calls[0] != wantCall {
		t.Fatalf("retry calls %q, want [%q]", calls, wantCall)
	}
	// An issued certificate is returned without asking again.
	if res, err := e.ca.Issue(ctx, req); err != nil || !res.Existing {
		t.Fatalf("repeat = %+v, %v", res, err)
	}
	if calls := f.take(); len(calls) != 0 {
		t.Fatalf("repeat asked %q", calls)
	}

	// A stored partition the profile would not name: refused, unsigned.
	f.mu.Lock()
	f.fail = errors.New("once more")
	f.mu.Unlock()
	req2 := authRequest(t, e, "ensure-2/auth")
	if _, err := e.ca.Issue(ctx, req2); !errors.Is(err, f.fail) {
		t.Fatalf("Issue = %v", err)
	}
	f.mu.Lock()
	f.fail = nil
	f.mu.Unlock()
	row2, _ := getCert(ctx, e.pool, "request_id = $1", req2.RequestID)
	other := "s00"
	if row2.CRLPartition == other {
		other = "s01"
	}
	if _, err := e.pool.Exec(ctx, "UPDATE ca_certificates SET crl_partition = $1 WHERE serial = $2", other, row2.Serial); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ca.Issue(ctx, req2); !errors.Is(err, ErrPartitionMismatch) {
		t.Fatalf("Issue with a tampered partition = %v, want ErrPartitionMismatch", err)
	}
	if row2, _ = getCert(ctx, e.pool, "request_id = $1", req2.RequestID); row2.CertDER != nil {
		t.Fatal("a certificate was signed for a mismatched partition")
	}

	// Off again: issuance asks nothing.
	e.ca.SetPartitionCRLs(nil)
	f.take()
	if _, err := e.ca.Issue(ctx, signRequest(t, e, "ensure-3/sign")); err != nil {
		t.Fatal(err)
	}
	if calls := f.take(); len(calls) != 0 {
		t.Fatalf("without a publisher: calls %q", calls)
	}
}

// The SQL definition of the partition (migration 0004) agrees with the
// profile's over serials of every shard and of every length.
func TestCRLPartitionSQLMatchesProfile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := int64(1); i < 300; i += 7 {
		for _, base := range []*big.Int{big.NewInt(0), new(big.Int).Lsh(big.NewInt(1), 126), new(big.Int).Lsh(big.NewInt(0xabc), 40)} {
			serial := new(big.Int).Add(base, big.NewInt(i))
			for _, kind := range []Kind{KindSign, KindAuth} {
				var got string
				if err := e.pool.QueryRow(ctx, "SELECT crl_partition_of($1, $2, '271004')", string(kind), FormatSerial(serial)).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if want := profile.CRLPartition(kind, serial, "271004"); got != want {
					t.Errorf("%s serial %s: SQL %s, profile %s", kind, FormatSerial(serial), got, want)
				}
			}
		}
	}
}
