package ca_test

// BenchmarkIssuance measures certificates issued per second through
// (*ca.CA).Issue — two Postgres transactions and one RSA-2048 signature in
// SoftHSM over PKCS#11 per certificate, subject keys generated before the
// clock starts — against the physical floor on the same machine in the same
// run: `openssl speed -seconds 3 rsa2048` signatures per second, and the raw
// SoftHSM signing rate through the CA's own signer.
//
//	source <state>/env; go test -run '^$' -bench Issuance -benchtime 2s ./internal/ca/
//
// Sub-benchmarks:
//
//	openssl-speed   openssl speed -seconds 3 rsa2048 (one process, one core); reports sign/s
//	hsm-sign        C_Sign of a SHA-256 DigestInfo with the issuing CA's key; reports sign/s
//	issue           Issue of signing certificates, one at a time
//	issue-parallel  Issue from 8 goroutines (the CA worker runs activities concurrently)
//
// The issue benchmarks report cert/s and x-openssl-sign (their rate over
// openssl's signing rate).

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ocsp/ocsptest"
)

func BenchmarkIssuance(b *testing.B) {
	env := ocsptest.New(b, "")
	keys := &keyPool{}
	var opensslSign float64
	var seq atomic.Int64
	notAfter := time.Now().AddDate(4, 0, 0).UTC().Truncate(time.Second)
	request := func(spki []byte) ca.IssueRequest {
		n := seq.Add(1)
		return ca.IssueRequest{RequestID: fmt.Sprintf("bench/%d/%d", time.Now().UnixNano(), n), Kind: ca.KindSign,
			MunicipalityCode: "131016", ResidentCode: fmt.Sprintf("%011d", n), PublicKeyDER: spki, NotAfter: notAfter,
			Personal: &ca.PersonalInfo{Name: "山田　太郎", DateOfBirth: "1980-05-06", Sex: ca.SexMale,
				Address: "東京都千代田区千代田1番1号"}}
	}

	b.Run("openssl-speed", func(b *testing.B) {
		out, err := exec.Command("openssl", "speed", "-seconds", "3", "rsa2048").CombinedOutput()
		if err != nil {
			b.Fatalf("openssl speed: %v\n%s", err, out)
		}
		opensslSign = parseOpenSSLSpeed(b, string(out))
		b.ReportMetric(opensslSign, "sign/s")
		b.ReportMetric(0, "ns/op") // one 3-second run, whatever b.N is
	})

	b.Run("hsm-sign", func(b *testing.B) {
		signer, err := env.CA.IssuerSigner(ca.KindSign)
		if err != nil {
			b.Fatal(err)
		}
		digest := sha256.Sum256([]byte("madoguchi"))
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if _, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
		rate := float64(b.N) / time.Since(start).Seconds()
		b.ReportMetric(rate, "sign/s")
		if opensslSign > 0 {
			b.ReportMetric(rate/opensslSign, "x-openssl-sign")
		}
	})

	b.Run("issue", func(b *testing.B) {
		spkis := keys.take(b, b.N)
		ctx := context.Background()
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if _, err := env.CA.Issue(ctx, request(spkis[i])); err != nil {
				b.Fatal(err)
			}
		}
		report(b, start, opensslSign)
	})

	b.Run("issue-parallel", func(b *testing.B) {
		spkis := keys.take(b, b.N)
		var next atomic.Int64
		ctx := context.Background()
		b.SetParallelism(4) // 4 × GOMAXPROCS(2) = 8 goroutines
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := env.CA.Issue(ctx, request(spkis[next.Add(1)-1])); err != nil {
					b.Error(err)
					return
				}
			}
		})
		report(b, start, opensslSign)
	})
}

func report(b *testing.B, start time.Time, opensslSign float64) {
	rate := float64(b.N) / time.Since(start).Seconds()
	b.ReportMetric(rate, "cert/s")
	if opensslSign > 0 {
		b.ReportMetric(rate/opensslSign, "x-openssl-sign")
	}
}

// parseOpenSSLSpeed reads the sign/s column of openssl speed's summary:
//
//	                  sign    verify    sign/s verify/s
//	rsa 2048 bits 0.000291s 0.000008s   3436.4 118306.0
func parseOpenSSLSpeed(b *testing.B, out string) float64 {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 7 && f[0] == "rsa" && f[1] == "2048" && f[2] == "bits" {
			v, err := strconv.ParseFloat(f[5], 64)
			if err == nil && v > 0 {
				return v
			}
		}
	}
	b.Fatalf("no rsa 2048 sign/s line in openssl speed output:\n%s", out)
	return 0
}

// keyPool hands out fresh subject keys (the CA refuses to certify a key
// twice), generated on every core before the clock starts.
type keyPool struct {
	mu   sync.Mutex
	keys [][]byte
}

func (p *keyPool) take(b *testing.B, n int) [][]byte {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	p.mu.Lock()
	defer p.mu.Unlock()
	if missing := n - len(p.keys); missing > 0 {
		fresh := make([][]byte, missing)
		var wg sync.WaitGroup
		var next atomic.Int64
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1) - 1; i < int64(missing); i = next.Add(1) - 1 {
					_, fresh[i] = ocsptest.Key(b)
				}
			}()
		}
		wg.Wait()
		p.keys = append(p.keys, fresh...)
	}
	out := p.keys[:n:n]
	p.keys = p.keys[n:]
	return out
}
