package integration

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"

	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/workflows"
)

// TestPrivacy runs an issuance, then reads the workflow histories with a
// client that has no codec, as anyone with access to the Temporal server
// would: the applicant's name and address must not appear in clear, and no
// PIN may appear in any history, log file or database table after the runs.
func TestPrivacy(t *testing.T) {
	requireStack(t)
	startBackOffice(t)
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
	personal := [][]byte{[]byte(r.Name), []byte(r.Address), []byte(r.Alias), []byte("小林"), []byte("永田町")}
	pins := [][]byte{}
	for _, p := range testPINs {
		pins = append(pins, []byte(p))
	}

	// This procedure's history: no personal data, no PIN.
	id := workflows.WorkflowID(workflows.ProcedureInPersonIssuance, caseNumber)
	hist := historyBytes(t, raw, id)
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
			h := historyBytes(t, raw, e.Execution.WorkflowId)
			for _, p := range pins {
				if bytes.Contains(h, p) {
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
		for _, p := range pins {
			if bytes.Contains(b, p) {
				t.Errorf("a PIN appears in the log %s", path)
			}
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
		for _, p := range pins {
			if bytes.Contains(b, p) {
				t.Errorf("a PIN appears in clear in the card state %s", f)
			}
		}
	}
	// Every table of both databases.
	for _, dsn := range []string{cfg.DBDSN, cfg.JLISDSN} {
		scanTables(t, dsn, pins)
	}
}

func historyBytes(t *testing.T, c client.Client, id string) []byte {
	t.Helper()
	var buf bytes.Buffer
	it := c.GetWorkflowHistory(context.Background(), id, "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
	}
	return buf.Bytes()
}

// scanTables reads every row of every table as text and looks for the needles.
func scanTables(t *testing.T, dsn string, needles [][]byte) {
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
			for _, n := range needles {
				if bytes.Contains([]byte(s), n) {
					t.Errorf("a PIN appears in table %s", tbl)
				}
			}
		}
	}
}
