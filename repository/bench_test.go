package repository_test

// BenchmarkOCSP measures the repository's OCSP throughput and latency at 64
// concurrent keep-alive connections against `openssl ocsp -index … -port`
// answering for the same signing certificates, with the same load generator
// and the same request bytes, in the same run; and how long a status change
// takes to reach HTTP clients while the load runs.
//
//	source <state>/env; go test -run '^$' -bench OCSP -benchtime 3s ./repository/
//
// Sub-benchmarks (ns/op is wall time per request over all connections):
//
//	openssl         openssl ocsp, one responder process (the command of the issue)
//	openssl-multi2  openssl ocsp -multi 2 (one process per core)
//	madoguchi       this server (reports x-openssl: its rate over openssl's)
//	status-change   hold/release of a certificate under the same load;
//	                reports the worst time until an HTTP client sees it

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	xocsp "golang.org/x/crypto/ocsp"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ocsp"
	"github.com/madoguchi/madoguchi/internal/ocsp/ocsptest"
	"github.com/madoguchi/madoguchi/internal/verifier"
	"github.com/madoguchi/madoguchi/repository"
)

const (
	benchConns = 64
	benchCerts = 32
)

func BenchmarkOCSP(b *testing.B) {
	if _, err := exec.LookPath("openssl"); err != nil {
		b.Skip("openssl not installed")
	}
	env := ocsptest.New(b, "")
	ctx := context.Background()
	signCA := env.Issuer(b, ca.KindSign)

	// Signing certificates with keys made before the clock starts.
	spkis := make([][]byte, benchCerts+1)
	var wg sync.WaitGroup
	for i := range spkis {
		wg.Add(1)
		go func() { defer wg.Done(); _, spkis[i] = ocsptest.Key(b) }()
	}
	wg.Wait()
	var certs []*x509.Certificate
	for i := 0; i < benchCerts; i++ {
		_, authSPKI := ocsptest.Key(b)
		certs = append(certs, env.IssuePairWithKeys(b, spkis[i], authSPKI).Sign)
	}
	held := env.IssuePairWithKeys(b, spkis[benchCerts], func() []byte { _, k := ocsptest.Key(b); return k }())

	// Our server, on a real socket, with the production timeouts.
	resp, err := ocsp.New(ctx, env.Pool, env.HSM, env.CA, ocsp.Options{Logger: ocsptest.Logger(b)})
	if err != nil {
		b.Fatal(err)
	}
	reg, err := verifier.NewRegistry(ctx, env.Pool, ocsptest.Logger(b))
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = resp.Run(runCtx) }()
	go func() { _ = reg.Run(runCtx) }()
	_, key, err := verifier.Register(ctx, env.Pool, verifier.Registration{Name: "bench", Category: verifier.CategoryAdministrative,
		Roles: []verifier.Role{verifier.RoleSignature, verifier.RoleUserAuth}})
	if err != nil {
		b.Fatal(err)
	}
	if err := reg.Reload(ctx); err != nil {
		b.Fatal(err)
	}
	srv, err := repository.New(repository.Config{Pool: env.Pool, OCSP: resp, Verifiers: reg, Logger: ocsptest.Logger(b)})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := repository.NewHTTPServer(ln.Addr().String(), srv)
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	for !resp.Listening() {
		time.Sleep(5 * time.Millisecond)
	}

	// The same requests for both servers (SHA-1 CertIDs, as openssl sends).
	var reqs [][]byte
	for _, c := range certs {
		der, err := xocsp.CreateRequest(c, signCA, nil)
		if err != nil {
			b.Fatal(err)
		}
		reqs = append(reqs, httpRequest(der, key))
	}

	dir := b.TempDir()
	ossl := startOpenSSL(b, env, dir, certs, 0)
	osslMulti := startOpenSSL(b, env, dir, certs, 2)

	var opensslRate float64
	b.Run("openssl", func(b *testing.B) {
		r := load(b, ossl, reqs, benchConns)
		opensslRate = r.rate
	})
	b.Run("openssl-multi2", func(b *testing.B) { load(b, osslMulti, reqs, benchConns) })
	b.Run("madoguchi", func(b *testing.B) {
		// Warm: the first answer per certificate is signed in the HSM.
		for _, rq := range reqs {
			if _, err := oneRequest(ln.Addr().String(), rq); err != nil {
				b.Fatal(err)
			}
		}
		r := load(b, ln.Addr().String(), reqs, benchConns)
		if opensslRate > 0 {
			b.ReportMetric(r.rate/opensslRate, "x-openssl")
		}
	})
	b.Run("status-change", func(b *testing.B) {
		authCA := env.Issuer(b, ca.KindAuth)
		der, err := xocsp.CreateRequest(held.Auth, authCA, nil)
		if err != nil {
			b.Fatal(err)
		}
		probe := httpRequest(der, key)
		stop := make(chan struct{})
		bg := make(chan loadResult, 1)
		go func() { bg <- loadUntil(ln.Addr().String(), reqs, benchConns, stop) }()
		var worst, total time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for _, hold := range []bool{true, false} {
				id := fmt.Sprintf("bench/%d/%v/%d", i, hold, time.Now().UnixNano())
				var err error
				if hold {
					_, err = env.CA.Hold(ctx, ca.HoldRequest{RequestID: id, Serial: held.Result.Auth.Serial})
				} else {
					_, err = env.CA.Release(ctx, ca.HoldRequest{RequestID: id, Serial: held.Result.Auth.Serial})
				}
				if err != nil {
					b.Fatal(err)
				}
				committed := time.Now()
				for {
					body, err := oneRequest(ln.Addr().String(), probe)
					if err != nil {
						b.Fatal(err)
					}
					r, err := xocsp.ParseResponseForCert(body, held.Auth, authCA)
					if err != nil {
						b.Fatal(err)
					}
					if (r.Status == xocsp.Revoked) == hold {
						break
					}
					if time.Since(committed) > time.Second {
						b.Fatalf("status change not answered within 1 s (hold=%v)", hold)
					}
					time.Sleep(time.Millisecond)
				}
				d := time.Since(committed)
				total += d
				worst = max(worst, d)
			}
		}
		b.StopTimer()
		close(stop)
		r := <-bg
		b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
		b.ReportMetric(float64(total.Microseconds())/1000/float64(2*b.N), "mean-ms")
		b.ReportMetric(r.rate, "bg-req/s")
	})
	st := resp.Stats()
	b.Logf("responder: %d hits, %d signatures, %d invalidations, %d cached", st.Hits, st.Signatures, st.Invalidations, st.Cached)
}

func httpRequest(der []byte, key string) []byte {
	return []byte(fmt.Sprintf("POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\n"+
		"Content-Length: %d\r\n%s: %s\r\n\r\n%s", len(der), verifier.HeaderName, key, der))
}

// startOpenSSL runs `openssl ocsp -index … -port` for the same CA and
// certificates, signing with a software RSA-2048 key that our CA certifies
// as a delegated responder (openssl cannot use the HSM key).
func startOpenSSL(b *testing.B, env *ocsptest.Env, dir string, certs []*x509.Certificate, multi int) string {
	b.Helper()
	signCA := env.Issuer(b, ca.KindSign)
	caSigner, err := env.CA.IssuerSigner(ca.KindSign)
	if err != nil {
		b.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	rcert, err := ocsp.IssueResponderCertificate(signCA, caSigner, &key.PublicKey, ca.KindSign, time.Now(), 24*time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, fmt.Sprintf("%d-%s", multi, name))
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			b.Fatal(err)
		}
		return p
	}
	caFile := write("ca.pem", "CERTIFICATE", signCA.Raw)
	rFile := write("rsigner.pem", "CERTIFICATE", rcert.Raw)
	kFile := write("rkey.pem", "PRIVATE KEY", func() []byte { d, _ := x509.MarshalPKCS8PrivateKey(key); return d }())
	var index strings.Builder
	for i, c := range certs {
		serial := strings.ToUpper(c.SerialNumber.Text(16))
		if len(serial)%2 == 1 {
			serial = "0" + serial
		}
		fmt.Fprintf(&index, "V\t%s\t\t%s\tunknown\t%s\n", c.NotAfter.UTC().Format("060102150405Z"), serial, fmt.Sprintf("/C=JP/CN=bench%d", i))
	}
	idxFile := filepath.Join(dir, fmt.Sprintf("%d-index.txt", multi))
	if err := os.WriteFile(idxFile, []byte(index.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	args := []string{"ocsp", "-index", idxFile, "-port", strconv.Itoa(port), "-rsigner", rFile, "-rkey", kFile,
		"-CA", caFile, "-nmin", "60", "-ignore_err"}
	if multi > 0 {
		args = append(args, "-multi", strconv.Itoa(multi))
	}
	cmd := exec.Command("openssl", args...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	// Its own process group: -multi forks workers, which must go too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// Wait for its "ACCEPT" line. A probe connection closed without a
	// request would make openssl 3.0's single-threaded responder spin on
	// it forever.
	for i := 0; !strings.Contains(logs.String(), "ACCEPT"); i++ {
		if i > 500 {
			b.Fatalf("openssl ocsp did not start: %s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// It answers for our certificates with a verifiable "good".
	der, _ := xocsp.CreateRequest(certs[0], signCA, nil)
	body, err := oneRequest(addr, httpRequest(der, "-"))
	if err != nil {
		b.Fatal(err)
	}
	if r, err := xocsp.ParseResponseForCert(body, certs[0], signCA); err != nil || r.Status != xocsp.Good {
		b.Fatalf("openssl answer: %v %v", r, err)
	}
	return addr
}

type loadResult struct {
	n       int
	dur     time.Duration
	rate    float64
	lat     []time.Duration
	retries int64
}

// load sends b.N requests over conns keep-alive connections and reports
// requests/s and latency percentiles.
func load(b *testing.B, addr string, reqs [][]byte, conns int) loadResult {
	b.Helper()
	var next atomic.Int64
	b.ResetTimer()
	r := drive(addr, reqs, conns, func() bool { return next.Add(1) <= int64(b.N) })
	b.StopTimer()
	if r.n != b.N {
		b.Fatalf("%d of %d requests answered", r.n, b.N)
	}
	slices.Sort(r.lat)
	pct := func(p float64) float64 {
		return float64(r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(r.rate, "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(r.retries), "reconnects")
	return r
}

func loadUntil(addr string, reqs [][]byte, conns int, stop chan struct{}) loadResult {
	return drive(addr, reqs, conns, func() bool {
		select {
		case <-stop:
			return false
		default:
			return true
		}
	})
}

// drive runs conns workers, each with its own connection, sending the next
// request while more() says so. A connection the server closes (openssl's
// responder closes after each answer unless asked otherwise) is reopened.
func drive(addr string, reqs [][]byte, conns int, more func() bool) loadResult {
	var (
		mu      sync.Mutex
		all     []time.Duration
		n       atomic.Int64
		retries atomic.Int64
		wg      sync.WaitGroup
		failure atomic.Value
	)
	start := time.Now()
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var c *client
			defer func() {
				if c != nil {
					c.close()
				}
			}()
			lat := make([]time.Duration, 0, 1024)
			i := w
			for more() {
				rq := reqs[i%len(reqs)]
				i++
				t0 := time.Now()
				var err error
				for attempt := 0; attempt < 3; attempt++ {
					if c == nil {
						if c, err = dial(addr); err != nil {
							continue
						}
					}
					var keep bool
					if keep, err = c.roundTrip(rq); err == nil {
						if !keep {
							c.close()
							c = nil
							retries.Add(1)
						}
						break
					}
					c.close()
					c = nil
				}
				if err != nil {
					failure.Store(err)
					return
				}
				lat = append(lat, time.Since(t0))
				n.Add(1)
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	dur := time.Since(start)
	if err, _ := failure.Load().(error); err != nil {
		panic(fmt.Sprintf("load generator: %v", err))
	}
	return loadResult{n: int(n.Load()), dur: dur, rate: float64(n.Load()) / dur.Seconds(), lat: all, retries: retries.Load()}
}

// client is a minimal HTTP/1.1 client: it writes prepared request bytes and
// reads one response, so the load generator costs little next to the
// servers it measures.
type client struct {
	conn net.Conn
	br   *bufio.Reader
	body []byte
}

func dial(addr string) (*client, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &client{conn: c, br: bufio.NewReaderSize(c, 8192), body: make([]byte, 0, 4096)}, nil
}

func (c *client) close() { _ = c.conn.Close() }

// roundTrip sends rq and reads a 200 answer carrying a successful OCSP
// response; keep reports whether the connection stays open.
func (c *client) roundTrip(rq []byte) (keep bool, err error) {
	if _, err := c.conn.Write(rq); err != nil {
		return false, err
	}
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return false, err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200")) && !bytes.HasPrefix(line, []byte("HTTP/1.0 200")) {
		return false, fmt.Errorf("status %q", bytes.TrimSpace(line))
	}
	keep = bytes.HasPrefix(line, []byte("HTTP/1.1"))
	length := -1
	for {
		h, err := c.br.ReadSlice('\n')
		if err != nil {
			return false, err
		}
		if len(h) <= 2 {
			break
		}
		name, value, _ := bytes.Cut(h, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, err = strconv.Atoi(string(value))
			if err != nil {
				return false, err
			}
		case bytes.EqualFold(name, []byte("Connection")):
			keep = bytes.EqualFold(value, []byte("keep-alive"))
		}
	}
	if length < 0 {
		// No length: the body runs to the end of the connection.
		c.body, err = io.ReadAll(c.br)
		return false, checkOCSP(c.body, err)
	}
	if cap(c.body) < length {
		c.body = make([]byte, length)
	}
	c.body = c.body[:length]
	if _, err := io.ReadFull(c.br, c.body); err != nil {
		return false, err
	}
	return keep, checkOCSP(c.body, nil)
}

// checkOCSP requires OCSPResponse { successful, … }.
func checkOCSP(body []byte, err error) error {
	if err != nil {
		return err
	}
	// 30 82 LL LL 0a 01 00 — a successful response is always over 255 bytes.
	if len(body) < 7 || body[0] != 0x30 || body[4] != 0x0a || body[6] != 0 {
		return errors.New("not a successful OCSP response")
	}
	return nil
}

func oneRequest(addr string, rq []byte) ([]byte, error) {
	c, err := dial(addr)
	if err != nil {
		return nil, err
	}
	defer c.close()
	if _, err := c.roundTrip(rq); err != nil {
		return nil, err
	}
	return append([]byte(nil), c.body...), nil
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
