package bench

// BenchmarkExOfficioBatch measures the ex-officio revocation of a batch of
// register changes (第2 2(3); a municipal merger that re-numbers 100,000
// addresses) end to end — the batch recorded as the gateway records it,
// the batch procedure on Temporal reading chunks of 1,000 changes, the CA
// revoking each chunk in one transaction, the municipal records completed —
// until the OCSP responder (internal/ocsp, listening for the CA's change
// notifications) answers "revoked" for every sampled certificate. The
// baseline, in the same run and on the same rows: one plain SQL UPDATE of
// ca_certificates, to the same OCSP-visible answer. The rows are then set
// good again (and the answers seen good) before our run.
//
//	make bench   (or: source <state>/env; go test -run '^$' -bench ExOfficioBatch -benchtime 1x ./tests/bench)
//
// MADOGUCHI_EXOFFICIO_CHANGES sets the batch size (default 100,000).

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"strconv"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	xocsp "golang.org/x/crypto/ocsp"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/ocsp"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

const ocspSamples = 200

func BenchmarkExOfficioBatch(b *testing.B) {
	s := getStack(b)
	ctx := context.Background()
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("MADOGUCHI_EXOFFICIO_CHANGES")); err == nil && v > 0 && v <= workflows.MaxBatchChanges {
		n = v
	}
	conn, err := ca.Connect(ctx, s.cfg.JLISDSN)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	authority, err := conn.Load(ctx, ca.Options{RepositoryURL: s.cfg.RepositoryURL, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	resp, err := ocsp.New(ctx, conn.Pool, conn.HSM, authority, ocsp.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = resp.Run(runCtx) }()
	for !resp.Listening() {
		time.Sleep(10 * time.Millisecond)
	}
	issuer, err := authority.IssuerCertificate(ca.KindSign)
	if err != nil {
		b.Fatal(err)
	}
	var ours, baseline float64
	for range b.N {
		set := s.seedRevocationSet(b, ctx, n)
		reqs := set.ocspRequests(b, issuer)
		waitOCSP(b, resp, reqs, ocsp.Good)

		// Baseline: one UPDATE of the same rows, to revoked on OCSP.
		start := time.Now()
		if _, err := conn.Pool.Exec(ctx, `UPDATE ca_certificates SET revocation_reason = 3, revoked_at = now()
			WHERE resident_code = ANY($1) AND kind = 'sign'`, set.residents); err != nil {
			b.Fatal(err)
		}
		waitOCSP(b, resp, reqs, ocsp.Revoked)
		base := time.Since(start)
		if _, err := conn.Pool.Exec(ctx, `UPDATE ca_certificates SET revocation_reason = NULL, revoked_at = NULL
			WHERE resident_code = ANY($1) AND kind = 'sign'`, set.residents); err != nil {
			b.Fatal(err)
		}
		waitOCSP(b, resp, reqs, ocsp.Good)

		// Ours: the batch as the gateway takes it (register check, COPY), the
		// procedure, OCSP.
		start = time.Now()
		number, err := s.db.NextCaseNumber(ctx, demo.Chiyoda, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		proc := workflows.ProcedureExOfficioRevocationBatch
		id := workflows.WorkflowID(proc, number)
		batchID := "BENCH-" + number
		// The gateway's check that every resident is in the register.
		if unknown, err := s.db.UnknownResidents(ctx, demo.Chiyoda, set.residents); err != nil || len(unknown) > 0 {
			b.Fatalf("%d unknown residents (%v)", len(unknown), err)
		}
		if _, _, err := s.db.RecordRegisterBatch(ctx, storage.Case{CaseNumber: number, MunicipalityCode: demo.Chiyoda, Procedure: proc,
			WorkflowID: id, OpenedBy: s.clerkID}, batchID, set.changes); err != nil {
			b.Fatal(err)
		}
		intake := time.Since(start)
		run, err := s.tc.ExecuteWorkflow(ctx, startOptions(proc, number), workflows.ExOfficioRevocationBatch,
			workflows.ExOfficioRevocationBatchInput{CaseNumber: number, MunicipalityCode: demo.Chiyoda, Actor: "bench", BatchID: batchID})
		if err != nil {
			b.Fatal(err)
		}
		var out workflows.ExOfficioRevocationBatchResult
		if err := run.Get(ctx, &out); err != nil {
			b.Fatal(err)
		}
		procedure := time.Since(start)
		waitOCSP(b, resp, reqs, ocsp.Revoked)
		took := time.Since(start)
		if out.Status != workflows.StatusCompleted || out.Detail.Revoked != n {
			b.Fatalf("batch: %s, %+v", out.Status, out.Detail)
		}
		var revoked int
		if err := conn.Pool.QueryRow(ctx, `SELECT count(*) FROM ca_certificates WHERE resident_code = ANY($1) AND revocation_reason = 3`,
			set.residents).Scan(&revoked); err != nil || revoked != n {
			b.Fatalf("%d of %d revoked at the CA (%v)", revoked, n, err)
		}
		desc, err := s.tc.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			b.Fatal(err)
		}
		info := desc.GetWorkflowExecutionInfo()
		b.Logf("batch history: %d events, %.1f MB", info.GetHistoryLength(), float64(info.GetHistorySizeBytes())/1e6)
		ours += float64(n) / took.Seconds()
		baseline += float64(n) / base.Seconds()
		b.Logf("%d changes: ours %v (intake %v, procedure done at %v, %d chunks), plain UPDATE %v", n, took.Round(time.Millisecond),
			intake.Round(time.Millisecond), procedure.Round(time.Millisecond), out.Detail.Chunks, base.Round(time.Millisecond))
	}
	ours /= float64(b.N)
	baseline /= float64(b.N)
	b.ReportMetric(ours, "revocations/s")
	b.ReportMetric(baseline, "sql-update-revocations/s")
	b.ReportMetric(ours/baseline, "x-sql-update")
	b.ReportMetric(0, "ns/op")
}

// revocationSet is a batch's residents, their signing certificates at the
// CA and the register changes.
type revocationSet struct {
	residents []string
	serials   []*big.Int
	changes   []storage.RegisterEvent
}

// seedRevocationSet writes n residents of 千代田区 (8xxxxxxxxxx, continuing
// earlier runs) with a signing certificate each, in the municipal records
// and at the CA (rows only: the benchmark measures revocation, not
// signing), and their address changes of today.
func (s *stack) seedRevocationSet(b *testing.B, ctx context.Context, n int) revocationSet {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	var last int64
	if err := s.db.Pool.QueryRow(ctx, `SELECT COALESCE(max(resident_code::bigint), 80000000000) FROM residents WHERE resident_code LIKE '8%'`).Scan(&last); err != nil {
		b.Fatal(err)
	}
	if last+int64(n) > 89999999999 {
		b.Fatal("bench residents exhausted")
	}
	db := s.db.Pool
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO residents (resident_code, municipality_code, name, birth_date, sex, address, status)
			SELECT (($1::bigint) + i)::text, '131016', '試験 住民', DATE '1980-01-01', 'male', '東京都千代田区試験1番', 'resident'
			FROM generate_series(1, $2::int) i`, []any{last, n}},
		// One issuance case per resident, as the record is one per case and kind.
		{`INSERT INTO cases (case_number, municipality_code, procedure, workflow_id, opened_by, opened_at, status)
			SELECT 'BENCH-' || (($1::bigint) + i), '131016', 'inperson-issuance', 'bench-seed/' || (($1::bigint) + i), $3,
				now() - interval '1 day', 'completed'
			FROM generate_series(1, $2::int) i`, []any{last, n, s.clerkID}},
		{`INSERT INTO issued_certificates (serial, kind, case_number, resident_code, card_serial, not_after)
			SELECT to_hex(($1::bigint) * 16 + i), 'sign', 'BENCH-' || (($1::bigint) + i), (($1::bigint) + i)::text, 'BENCH',
				now() + interval '4 years'
			FROM generate_series(1, $2::int) i`, []any{last, n}},
	} {
		if _, err := db.Exec(ctx, q.sql, q.args...); err != nil {
			b.Fatalf("seed municipal: %v", err)
		}
	}
	conn, err := ca.Connect(ctx, s.cfg.JLISDSN)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Pool.Exec(ctx, `INSERT INTO ca_certificates (serial, request_id, kind, issuer_id, municipality_code, resident_code,
			subject_id, public_key_der, spki_sha256, request_digest, repository_url, not_before, not_after, retain_until, cert_der, issued_at)
		SELECT to_hex(($1::bigint) * 16 + i), 'bench-seed/' || (($1::bigint) + i), 'sign',
			(SELECT id FROM ca_issuers WHERE kind = 'sign' AND active), '131016', (($1::bigint) + i)::text,
			'bench', '\x00'::bytea, sha256(('bench-spki-' || (($1::bigint) + i))::bytea), sha256(('bench-req-' || i)::bytea),
			'http://127.0.0.1', now() - interval '1 day', now() + interval '4 years', CURRENT_DATE + 3650, '\x30'::bytea, now() - interval '1 day'
		FROM generate_series(1, $2::int) i`, last, n); err != nil {
		b.Fatalf("seed CA: %v", err)
	}
	set := revocationSet{}
	day := time.Now().In(storage.Tokyo)
	today, _ := time.Parse(time.DateOnly, day.Format(time.DateOnly))
	for i := int64(1); i <= int64(n); i++ {
		code := strconv.FormatInt(last+i, 10)
		set.residents = append(set.residents, code)
		set.serials = append(set.serials, big.NewInt((last)*16+i))
		set.changes = append(set.changes, storage.RegisterEvent{ChangeID: fmt.Sprintf("BENCH-%d", last+i), ResidentCode: code,
			Kind: "address_change", Date: today})
	}
	return set
}

// ocspRequests are requests for every n/ocspSamples-th certificate and the last.
func (set revocationSet) ocspRequests(b *testing.B, issuer *x509.Certificate) [][]byte {
	var out [][]byte
	step := max(len(set.serials)/ocspSamples, 1)
	for i := 0; i < len(set.serials); i += step {
		out = append(out, ocspRequest(b, set.serials[i], issuer))
	}
	return append(out, ocspRequest(b, set.serials[len(set.serials)-1], issuer))
}

func ocspRequest(b *testing.B, serial *big.Int, issuer *x509.Certificate) []byte {
	der, err := xocsp.CreateRequest(&x509.Certificate{SerialNumber: serial}, issuer, &xocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		b.Fatal(err)
	}
	return der
}

// waitOCSP polls until every request is answered with the state.
func waitOCSP(b *testing.B, r *ocsp.Responder, reqs [][]byte, want ocsp.CertState) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for _, req := range reqs {
		for {
			a := r.Respond(context.Background(), req, nil)
			if a.Status == ocsp.StatusSuccessful && a.State == want {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("OCSP: %v (%v), want %v", a.State, a.Err, want)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// startOptions names a case's workflow as the gateway does.
func startOptions(proc, number string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: workflows.WorkflowID(proc, number), TaskQueue: contract.MunicipalTaskQueue,
		TypedSearchAttributes: workflows.SearchAttributes(proc, number, demo.Chiyoda)}
}
