package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"

	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/workflows"
)

// TestPrivacy runs an issuance, then reads the workflow histories with a
// client that has no codec, as anyone with access to the Temporal server
// would: the applicant's name and address must not appear in clear, and no
// PIN may appear in any history, log file or database table after the runs.
func TestPrivacy(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentPrivacy)
	startTerminal(t, r.CardSerial, r.CardExpiry, false)
	clerk := login(t, "clerk1")
	caseNumber, st := issue(t, clerk, application(demo.ResidentPrivacy, true, true))
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("issuance did not complete: %v", st)
	}

	raw, err := client.Dial(client.Options{HostPort: cfg.TemporalAddr, Namespace: cfg.TemporalNamespace})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	c, err := codec.Load(cfg.CodecKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	personal := [][]byte{[]byte(r.Name), []byte(r.Address), []byte(r.Alias), []byte("小林"), []byte("永田町")}
	pins := pinMatcher()

	// This procedure's history: no personal data, no PIN.
	id := workflows.WorkflowID(workflows.ProcedureInPersonIssuance, caseNumber)
	hist := historyBytes(t, raw, id, nil)
	if len(hist) == 0 {
		t.Fatal("empty history")
	}
	for _, p := range personal {
		if bytes.Contains(hist, p) {
			t.Fatalf("the applicant's personal data appears in clear in the history of %s", id)
		}
	}
	// Every procedure's history: no PIN.
	ctx := context.Background()
	scanned := 0
	var token []byte
	for {
		resp, err := raw.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: cfg.TemporalNamespace, PageSize: 500, NextPageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range resp.Executions {
			// internal/temporalclient's scope test runs its own workflows on
			// this server under a throw-away key: not a procedure.
			if strings.HasPrefix(e.Execution.WorkflowId, "codec-check/") {
				continue
			}
			// Stored, and decrypted with the codec as a manager's UI sees
			// it: the sealed PIN notices carry no PIN either way.
			for _, h := range [][]byte{historyBytes(t, raw, e.Execution.WorkflowId, nil), historyBytes(t, raw, e.Execution.WorkflowId, c)} {
				if pins(h) {
					t.Fatalf("a PIN appears in the history of %s", e.Execution.WorkflowId)
				}
			}
			scanned++
		}
		if token = resp.NextPageToken; len(token) == 0 {
			break
		}
	}
	if scanned == 0 {
		t.Fatal("no workflow histories were scanned")
	}

	// Logs: every file under the state folder's logs (services and ours).
	logs := 0
	_ = filepath.WalkDir(filepath.Join(cfg.State, "logs"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		logs++
		if pins(b) {
			t.Errorf("a PIN appears in the log %s", path)
		}
		return nil
	})
	if logs == 0 {
		t.Fatal("no log files were scanned")
	}
	// The virtual cards' state files keep PIN verifiers, never PINs.
	cards, _ := filepath.Glob(filepath.Join(cfg.State, "cards", "*.json"))
	for _, f := range cards {
		b, _ := os.ReadFile(f)
		if pins(b) {
			t.Errorf("a PIN appears in clear in the card state %s", f)
		}
	}
	// Every table of both databases.
	for _, dsn := range []string{cfg.DBDSN, cfg.JLISDSN} {
		scanTables(t, dsn, pins)
	}
}

// historyBytes is a workflow's history, as stored or, with a codec, with
// every payload decrypted.
func historyBytes(t *testing.T, c client.Client, id string, dec *codec.AESGCM) []byte {
	t.Helper()
	var buf bytes.Buffer
	it := c.GetWorkflowHistory(context.Background(), id, "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		if dec != nil {
			if err := proxy.VisitPayloads(context.Background(), ev, proxy.VisitPayloadsOptions{SkipSearchAttributes: true,
				Visitor: func(_ *proxy.VisitPayloadsContext, p []*commonpb.Payload) ([]*commonpb.Payload, error) {
					return dec.Decode(p)
				},
			}); err != nil {
				t.Fatalf("decode the history of %s: %v", id, err)
			}
		}
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
	}
	return buf.Bytes()
}

// pinMatcher finds the test PINs in text or bytes: as they are, or in
// base64. A 4-digit PIN counts only where a leaked value would stand — a
// quoted string, a key=value, a word of its own — since runs of digits and
// hex (timestamps, serials, UUIDs) contain every 4-digit string sooner or
// later.
func pinMatcher() func([]byte) bool {
	var res []*regexp.Regexp
	for _, p := range testPINs {
		for _, form := range []string{p, base64.StdEncoding.EncodeToString([]byte(p)), base64.RawURLEncoding.EncodeToString([]byte(p))} {
			if len(p) <= 4 {
				res = append(res, regexp.MustCompile(`(^|["'=\s>\[(])`+regexp.QuoteMeta(form)+`($|["'\s,;&<\])])`))
			} else {
				res = append(res, regexp.MustCompile(regexp.QuoteMeta(form)))
			}
		}
	}
	return func(b []byte) bool {
		for _, re := range res {
			if re.Match(b) {
				return true
			}
		}
		return false
	}
}

// scanTables reads every row of every table as text and looks for PINs.
func scanTables(t *testing.T, dsn string, pins func([]byte) bool) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) == 0 {
		t.Fatal("no tables to scan")
	}
	for _, tbl := range tables {
		rows, err := conn.Query(ctx, `SELECT t::text FROM `+tbl+` t`)
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			if pins([]byte(s)) {
				t.Errorf("a PIN appears in table %s", tbl)
			}
		}
	}
}

// TestPINMatcher checks the scan itself: it finds a PIN where a leak would
// put it and ignores digits inside identifiers.
func TestPINMatcher(t *testing.T) {
	pins := pinMatcher()
	auth, sign := testPINs["auth"], testPINs["sign"]
	for _, leak := range []string{`{"pin":"` + auth + `"}`, "pin=" + auth + " ok", auth, "x " + sign + "y",
		base64.StdEncoding.EncodeToString([]byte(sign)), `"` + base64.StdEncoding.EncodeToString([]byte(auth)) + `"`} {
		if !pins([]byte(leak)) {
			t.Errorf("the scan misses a PIN in %q", leak)
		}
	}
	for _, benign := range []string{"7d554ef9-3d0b-4744-" + auth + "-4b0801567d5e", "2026-11-26T03:08:1" + auth + "Z", "serial a" + auth + "f"} {
		if pins([]byte(benign)) {
			t.Errorf("the scan takes %q for a PIN", benign)
		}
	}
}
