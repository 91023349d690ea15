package integration

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/searchattr"
	"github.com/madoguchi/madoguchi/workflows"
)

// TestPrivacy runs after the other integration tests (the file name sorts
// last) and reads back everything they left, as anyone with access to the
// servers would:
//   - every workflow of the namespace (ListWorkflow), its visibility record and
//     its history as stored, without the codec: no personal data of the tests'
//     residents and proxies, no PIN, and no failure message in clear (every
//     SDK failure is "Encoded failure" with encrypted attributes);
//   - the same histories decrypted with the codec, as a manager's Temporal UI
//     shows them: still no PIN (sealed notices stay sealed);
//   - every column of every table of both databases (madoguchi and jlis), bytea
//     decoded, and every log file and virtual card state: no PIN.
//
// PINs are matched in the forms a leak would take them: as they are, a JSON
// string or number, key=value or kind:PIN, hex and base64. The scan checks
// itself: before it runs, leaks are planted (a canary workflow whose input,
// failure and termination carry a PIN and personal data in clear, and a
// canary table in each database holding PINs in bytea, JSON, hex and base64);
// the scan must find every one of them, and nothing else.
func TestPrivacy(t *testing.T) {
	beginTest(t)
	r := demo.Find(demo.ResidentPrivacy)
	startTerminal(t, r.CardSerial, r.CardExpiry, false)
	clerk := login(t, "clerk1")
	if _, st := issue(t, clerk, application(demo.ResidentPrivacy, true, true)); st["status"] != workflows.StatusCompleted {
		t.Fatalf("issuance did not complete: %v", st)
	}

	raw := dialTemporal(t)
	dec, err := codec.Load(cfg.CodecKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	s := newLeakScan()
	canaries := plantCanaries(t, raw)

	// Every procedure the tests ran is among the histories read below.
	ctx := context.Background()
	for _, p := range append([]string{workflows.ProcedureInPersonIssuance, workflows.ProcedureProxyIssuance,
		workflows.ProcedureRelayForwarding, workflows.ProcedureRelayIssuance}, recordsProcedures...) {
		resp, err := raw.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: cfg.TemporalNamespace, PageSize: 1, Query: "MadoguchiProcedure = '" + p + "'"})
		if err != nil {
			t.Fatalf("list %s: %v", p, err)
		}
		if len(resp.Executions) == 0 {
			t.Errorf("no %s procedure to scan: run the whole integration package", p)
		}
	}
	scanned, failures, recordsScanned := 0, 0, 0
	// The disclosed records (the serials of the disclosure test's person)
	// never appear in clear in a records procedure's history.
	disclosed := serialsOf(t, demo.ResidentDisclosure)
	if len(disclosed) == 0 {
		t.Error("no disclosed records to look for: run the whole integration package")
	}
	var token []byte
	for {
		resp, err := raw.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: cfg.TemporalNamespace, PageSize: 200, NextPageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range resp.Executions {
			where := "workflow " + e.GetExecution().GetWorkflowId() + " run " + e.GetExecution().GetRunId()
			vis, err := proto.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			s.personalIn(where+" (visibility record)", vis)
			d := dec
			if strings.HasPrefix(e.GetExecution().GetWorkflowId(), "codec-check/") {
				// internal/temporalclient's scope test runs its own workflows
				// on this server under a throw-away key: read as stored only.
				d = nil
			}
			evs := runEvents(t, raw, e.GetExecution())
			failures += s.history(where, evs, d)
			if slices.Contains(recordsProcedures, searchattr.KeywordOf(e.GetSearchAttributes().GetIndexedFields(), searchattr.Procedure)) {
				recordsScanned++
				disclosedIn(t, where, evs, disclosed)
			}
			scanned++
		}
		if token = resp.NextPageToken; len(token) == 0 {
			break
		}
	}
	t.Logf("scanned %d workflow histories (%d failures in them, %d of disclosure and correction)", scanned, failures, recordsScanned)
	if recordsScanned == 0 {
		t.Error("no disclosure or correction history was scanned")
	}

	logs := 0
	_ = filepath.WalkDir(filepath.Join(cfg.State, "logs"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil {
			logs++
			s.pinsIn("log "+path, b)
		}
		return nil
	})
	if logs == 0 {
		t.Error("no log files were scanned")
	}
	// The virtual cards keep PIN verifiers, never PINs.
	cards, _ := filepath.Glob(filepath.Join(cfg.State, "cards", "*.json"))
	for _, f := range cards {
		if b, err := os.ReadFile(f); err == nil {
			s.pinsIn("card state "+f, b)
		}
	}
	if len(cards) == 0 {
		t.Error("no card state was scanned")
	}
	for name, dsn := range map[string]string{"madoguchi": cfg.DBDSN, "jlis": cfg.JLISDSN} {
		scanDatabase(t, s, name, dsn)
	}

	// The scan found each planted leak, and nothing but them.
	for _, want := range canaries.expected {
		if !slices.ContainsFunc(s.leaks, want.matches) {
			t.Errorf("the scan missed the planted leak: %s in %s", want.kind, want.where)
		}
	}
	for _, l := range s.leaks {
		if !canaries.planted(l.where) {
			t.Errorf("%s appears in %s", l.what, l.where)
		}
	}
}

// leak is one finding: where, what kind ("pin", "personal", "failure") and
// a description that names the form, never the value.
type leak struct{ where, kind, what string }

// leakScan collects the findings of the privacy scan.
type leakScan struct {
	pins     func([]byte) []string
	personal func([]byte) []string
	leaks    []leak
}

func newLeakScan() *leakScan {
	return &leakScan{pins: pinMatcher(), personal: personalMatcher()}
}

func (s *leakScan) add(where, kind, what string) {
	l := leak{where: where, kind: kind, what: what}
	if !slices.Contains(s.leaks, l) {
		s.leaks = append(s.leaks, l)
	}
}

func (s *leakScan) pinsIn(where string, b []byte) {
	for _, what := range s.pins(b) {
		s.add(where, "pin", what)
	}
}

func (s *leakScan) personalIn(where string, b []byte) {
	for _, what := range s.personal(b) {
		s.add(where, "personal", what)
	}
}

// history scans a workflow history: as stored, for personal data, PINs and
// failures in clear; then, with dec, decrypted, for PINs. It returns the
// number of failures it saw.
func (s *leakScan) history(where string, evs []*historypb.HistoryEvent, dec *codec.AESGCM) int {
	failures := 0
	for _, ev := range evs {
		b, err := proto.Marshal(ev)
		if err != nil {
			panic(err)
		}
		// Personal data is looked for in everything stored but the
		// ciphertext of encrypted payloads: random bytes there may hold a
		// one-kanji surname's three bytes by chance (a run of 124 histories
		// found 林 in one), and the encryption is checked apart (TestHistoryScan,
		// and the PIN scan of the decrypted history below).
		s.personalIn(where+" (stored)", withoutCiphertext(ev))
		s.pinsIn(where+" (stored)", b)
		walkFailures(ev.ProtoReflect(), func(f *failurepb.Failure) {
			failures++
			// The SDK encodes every failure it makes: the message and stack
			// trace move into the encrypted attributes. The server's own
			// (timeouts, terminations) carry no application text.
			if f.GetSource() == "GoSDK" && (f.GetMessage() != "Encoded failure" || f.GetStackTrace() != "" || !codec.Encrypted(f.GetEncodedAttributes())) {
				s.add(where+" (stored)", "failure", fmt.Sprintf("a failure message in clear (event %d, %s)", ev.GetEventId(), ev.GetEventType()))
			}
		})
		if dec == nil {
			continue
		}
		decoded := proto.Clone(ev).(*historypb.HistoryEvent)
		if err := proxy.VisitPayloads(context.Background(), decoded, proxy.VisitPayloadsOptions{SkipSearchAttributes: true,
			Visitor: func(_ *proxy.VisitPayloadsContext, p []*commonpb.Payload) ([]*commonpb.Payload, error) {
				return dec.Decode(p)
			},
		}); err != nil {
			s.add(where, "decode", fmt.Sprintf("a payload the codec cannot decrypt (event %d): %v", ev.GetEventId(), err))
			continue
		}
		if b, err = proto.Marshal(decoded); err != nil {
			panic(err)
		}
		s.pinsIn(where+" (decrypted)", b)
	}
	return failures
}

// runEvents reads one run's history.
func runEvents(t *testing.T, c client.Client, ex *commonpb.WorkflowExecution) []*historypb.HistoryEvent {
	t.Helper()
	var evs []*historypb.HistoryEvent
	it := c.GetWorkflowHistory(context.Background(), ex.GetWorkflowId(), ex.GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", ex.GetWorkflowId(), err)
		}
		evs = append(evs, ev)
	}
	if len(evs) == 0 {
		t.Fatalf("empty history of %s", ex.GetWorkflowId())
	}
	return evs
}

// walkFailures calls fn for every Failure in m, causes included.
func walkFailures(m protoreflect.Message, fn func(*failurepb.Failure)) {
	if f, ok := m.Interface().(*failurepb.Failure); ok {
		fn(f)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool { walkFailures(mv.Message(), fn); return true })
			}
		case fd.IsList():
			if fd.Message() != nil {
				for i, l := 0, v.List(); i < l.Len(); i++ {
					walkFailures(l.Get(i).Message(), fn)
				}
			}
		case fd.Message() != nil:
			walkFailures(v.Message(), fn)
		}
		return true
	})
}

// scanDatabase reads every column of every table and materialised view of a
// database, outside the system schemas, and looks for PINs. bytea columns
// are read as bytes; every other column as its text form, in which hex
// escapes (a bytea inside an array or a composite) are decoded too.
func scanDatabase(t *testing.T, s *leakScan, name, dsn string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	type relation struct {
		oid  uint32
		name string
	}
	rows, err := conn.Query(ctx, `SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
			AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
		ORDER BY 2`)
	if err != nil {
		t.Fatal(err)
	}
	rels, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (relation, error) {
		var rel relation
		return rel, r.Scan(&rel.oid, &rel.name)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) == 0 {
		t.Fatalf("%s: no tables to scan", name)
	}
	hexRun := regexp.MustCompile(`\\x((?:[0-9a-fA-F]{2})+)`)
	for _, rel := range rels {
		rows, err := conn.Query(ctx, `SELECT quote_ident(attname), atttypid = 'bytea'::regtype FROM pg_attribute
			WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, rel.oid)
		if err != nil {
			t.Fatal(err)
		}
		type column struct {
			name  string
			bytea bool
		}
		cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
			var c column
			return c, r.Scan(&c.name, &c.bytea)
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(cols) == 0 {
			continue
		}
		sel := make([]string, len(cols))
		for i, c := range cols {
			sel[i] = c.name
			if !c.bytea {
				sel[i] = c.name + "::text"
			}
		}
		data, err := conn.Query(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+rel.name)
		if err != nil {
			t.Fatalf("read %s %s: %v", name, rel.name, err)
		}
		for data.Next() {
			vals := make([][]byte, len(cols))
			dest := make([]any, len(cols))
			for i := range vals {
				dest[i] = &vals[i]
			}
			if err := data.Scan(dest...); err != nil {
				t.Fatalf("read %s %s: %v", name, rel.name, err)
			}
			for i, v := range vals {
				where := name + " " + rel.name + "." + cols[i].name
				s.pinsIn(where, v)
				for _, m := range hexRun.FindAllSubmatch(v, -1) {
					if b, err := hex.DecodeString(string(m[1])); err == nil {
						s.pinsIn(where, b)
					}
				}
			}
		}
		if err := data.Err(); err != nil {
			t.Fatalf("read %s %s: %v", name, rel.name, err)
		}
	}
}

// canaryLeak is a planted leak the scan must find.
type canaryLeak struct{ where, kind string }

func (c canaryLeak) matches(l leak) bool {
	return l.kind == c.kind && strings.HasPrefix(l.where, c.where)
}

// canaries are the leaks planted for the scan to find.
type canaries struct {
	expected []canaryLeak
	prefixes []string // where a finding is expected rather than a leak
}

func (c *canaries) planted(where string) bool {
	return slices.ContainsFunc(c.prefixes, func(p string) bool { return strings.HasPrefix(where, p) })
}

// The canary table's columns, each holding a PIN in one form a leak would
// take; "benign" holds identifiers around the PIN's digits, which are not a
// leak.
var canaryColumns = []struct{ name, sqlType string }{
	{"pin_bytes", "bytea"}, {"json_bytes", "bytea"}, {"history_bytes", "bytea"},
	{"tagged", "text"}, {"hex_text", "text"}, {"base64_text", "text"}, {"json_number", "jsonb"}, {"bytes_in_array", "bytea[]"},
	{"benign", "text"},
}

// plantCanaries plants the leaks: a canary table in each database and a
// canary workflow started and failed with a client that has no codec. They
// are removed when the test ends.
func plantCanaries(t *testing.T, raw client.Client) *canaries {
	t.Helper()
	c := &canaries{}
	for name, dsn := range map[string]string{"madoguchi": cfg.DBDSN, "jlis": cfg.JLISDSN} {
		plantTableCanary(t, c, name, dsn)
	}
	plantWorkflowCanary(t, c, raw)
	return c
}

// plantTableCanary makes the schema zz_privacy_canary in a database with a
// table whose columns hold the PINs in the forms of canaryColumns.
func plantTableCanary(t *testing.T, c *canaries, name, dsn string) {
	t.Helper()
	ctx := context.Background()
	auth, sign := testPINs["auth"], testPINs["sign"]
	// A history event as the SDK would record it without a codec: the
	// input payload is the PIN as a JSON number.
	ev, err := proto.Marshal(&historypb.HistoryEvent{EventId: 1, EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
			Input: &commonpb.Payloads{Payloads: []*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(auth)}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS zz_privacy_canary CASCADE")
		conn.Close(context.Background())
	})
	defs := make([]string, len(canaryColumns))
	for i, col := range canaryColumns {
		defs[i] = col.name + " " + col.sqlType
	}
	for _, sql := range []string{"DROP SCHEMA IF EXISTS zz_privacy_canary CASCADE", "CREATE SCHEMA zz_privacy_canary",
		"CREATE TABLE zz_privacy_canary.leaks (" + strings.Join(defs, ", ") + ")"} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %s: %v", name, sql, err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO zz_privacy_canary.leaks VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		[]byte(auth), []byte(`{"kind":"auth","pin":`+auth+`}`), ev,
		"auth:"+auth, strings.ToUpper(hex.EncodeToString([]byte(sign))), base64.StdEncoding.EncodeToString([]byte(auth)),
		`{"pin": `+auth+`}`, [][]byte{[]byte("x"), []byte(sign)},
		"7d554ef9-3d0b-4744-"+auth+"-4b0801567d5e 2026-11-26T03:08:1"+auth+"Z serial a"+auth+"f"); err != nil {
		t.Fatal(err)
	}
	for _, col := range canaryColumns {
		// A finding in "benign" is a false positive, not a planted leak.
		if col.name != "benign" {
			where := name + " zz_privacy_canary.leaks." + col.name
			c.expected = append(c.expected, canaryLeak{where: where, kind: "pin"})
			c.prefixes = append(c.prefixes, where)
		}
	}
}

// plantWorkflowCanary starts a canary workflow with a client that has no
// codec: its input carries the PIN and a name, a failed workflow task an
// address in its message, all in clear.
func plantWorkflowCanary(t *testing.T, c *canaries, raw client.Client) {
	t.Helper()
	ctx := context.Background()
	r := demo.Find(demo.ResidentPrivacy)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	id, queue := "zz-privacy-canary-"+hex.EncodeToString(b), "zz-privacy-canary"
	if _, err := raw.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, "PrivacyScanCanary",
		map[string]any{"pin": 8613, "applicant": r.Name}); err != nil {
		t.Fatalf("start the canary workflow: %v", err)
	}
	t.Cleanup(func() {
		_, _ = raw.WorkflowService().DeleteWorkflowExecution(context.Background(), &workflowservice.DeleteWorkflowExecutionRequest{
			Namespace: cfg.TemporalNamespace, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: id}})
	})
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	task, err := raw.WorkflowService().PollWorkflowTaskQueue(pctx, &workflowservice.PollWorkflowTaskQueueRequest{
		Namespace: cfg.TemporalNamespace, TaskQueue: &taskqueuepb.TaskQueue{Name: queue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL}, Identity: queue})
	if err != nil || len(task.GetTaskToken()) == 0 {
		t.Fatalf("poll the canary's workflow task: %v", err)
	}
	if _, err := raw.WorkflowService().RespondWorkflowTaskFailed(pctx, &workflowservice.RespondWorkflowTaskFailedRequest{
		Namespace: cfg.TemporalNamespace, TaskToken: task.GetTaskToken(), Identity: queue,
		Cause: enumspb.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
		Failure: &failurepb.Failure{Source: "GoSDK", Message: "refused: " + r.Address,
			FailureInfo: &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{Type: "Canary"}}},
	}); err != nil {
		t.Fatalf("fail the canary's workflow task: %v", err)
	}
	if err := raw.TerminateWorkflow(ctx, id, "", "privacy scan canary"); err != nil {
		t.Fatalf("terminate the canary: %v", err)
	}
	// Listed (visibility is written asynchronously) before the scan runs.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		resp, err := raw.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: cfg.TemporalNamespace, PageSize: 1, Query: "WorkflowId = '" + id + "'"})
		if err == nil && len(resp.Executions) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the canary workflow is not listed: %v", err)
		}
	}
	w := "workflow " + id + " "
	c.expected = append(c.expected, canaryLeak{w, "pin"}, canaryLeak{w, "personal"}, canaryLeak{w, "failure"})
	c.prefixes = append(c.prefixes, w)
}

// pinMatcher finds the tests' PINs in text or bytes and names the forms it
// found. A long PIN is distinctive: found anywhere, in any case, as it is,
// in hex and in base64 at any alignment. A 4-digit PIN counts only where a
// leaked value would stand — a whole value, a quoted string, a JSON number,
// key=value or kind:PIN, a word of its own, a protobuf string of its own —
// since runs of digits and hex (timestamps, serials, UUIDs) contain every
// 4-digit string sooner or later; a process id in a log line is not a PIN.
func pinMatcher() func([]byte) []string {
	type form struct {
		what string
		re   *regexp.Regexp
	}
	var forms []form
	const before, after = `(?:^|["'=:\s>\[({,])`, `(?:$|["'\s,;&<\])}])`
	for kind, p := range testPINs {
		if len(p) <= 4 {
			for what, enc := range map[string]string{
				"":                 p,
				" in hex":          hex.EncodeToString([]byte(p)),
				" in base64":       base64.StdEncoding.EncodeToString([]byte(p)),
				" in base64 (raw)": base64.RawStdEncoding.EncodeToString([]byte(p)),
			} {
				flags := ""
				if what == " in hex" {
					flags = "(?i)"
				}
				forms = append(forms, form{kind + " PIN" + what, regexp.MustCompile(flags + before + regexp.QuoteMeta(enc) + after)})
			}
			// A protobuf field holding just the PIN: its length, then it.
			forms = append(forms, form{kind + " PIN (protobuf string)", regexp.MustCompile(`\x04` + regexp.QuoteMeta(p))})
			continue
		}
		encs := map[string]string{"": p, " in hex": hex.EncodeToString([]byte(p))}
		for align := range 3 {
			// The characters of base64 that depend on the PIN alone,
			// whatever precedes and follows it in the encoded blob.
			e := base64.StdEncoding.EncodeToString(append(make([]byte, align), p...))
			start, end := (align*8+5)/6, len(p)+align
			end = end * 8 / 6
			encs[fmt.Sprintf(" in base64 (offset %d)", align)] = e[start:end]
			encs[fmt.Sprintf(" in base64url (offset %d)", align)] = strings.NewReplacer("+", "-", "/", "_").Replace(e[start:end])
		}
		for what, enc := range encs {
			flags := ""
			if !strings.Contains(what, "base64") {
				flags = "(?i)"
			}
			forms = append(forms, form{kind + " PIN" + what, regexp.MustCompile(flags + regexp.QuoteMeta(enc))})
		}
	}
	// Process ids: "pid=8613", `"pid":8613`, Postgres's "... UTC [8613] LOG".
	notPIN := regexp.MustCompile(`(?i)pid["']?\s*[=:]\s*\d+|\d\d:\d\d:\d\d(?:\.\d+)? \w+ \[\d+\]`)
	return func(b []byte) []string {
		var found []string
		for _, f := range forms {
			for _, loc := range f.re.FindAllIndex(b, -1) {
				if pidAt(notPIN, b, loc) {
					continue
				}
				found = append(found, f.what)
				break
			}
		}
		slices.Sort(found)
		return slices.Compact(found)
	}
}

// pidAt reports whether the match at loc lies within a process id.
func pidAt(notPIN *regexp.Regexp, b []byte, loc []int) bool {
	lo := max(0, loc[0]-40)
	for _, m := range notPIN.FindAllIndex(b[lo:min(len(b), loc[1]+2)], -1) {
		if lo+m[0] <= loc[0] && loc[1] <= lo+m[1]+1 {
			return true
		}
	}
	return false
}

// proxyPersonal is the personal data of the proxy the proxy tests send
// (proxy_test.go), which travels like the applicant's.
var proxyPersonal = []string{"代理 人子", "東京都港区芝公園1丁目1番1号"}

// personalMatcher finds the personal data of the demo register (every
// resident the tests use) and of the tests' proxy, and names what it found
// without the value.
func personalMatcher() func([]byte) []string {
	type item struct {
		what string
		re   *regexp.Regexp
	}
	var items []item
	add := func(what, v string) {
		if v = strings.TrimSpace(v); v != "" {
			items = append(items, item{what, regexp.MustCompile(regexp.QuoteMeta(v))})
		}
	}
	for _, r := range demo.Residents {
		who := "resident " + r.ResidentCode
		add("the name of "+who, r.Name)
		if surname, _, ok := strings.Cut(r.Name, " "); ok {
			add("the surname of "+who, surname)
		}
		add("the kana name of "+who, r.NameKana)
		add("the address of "+who, r.Address)
		add("the former surname of "+who, r.FormerSurname)
		add("the alias of "+who, r.Alias)
		// Digits: only as a value of their own, not inside a longer number.
		items = append(items,
			item{"the birth date of " + who, regexp.MustCompile(`(?:^|\D)` + regexp.QuoteMeta(demo.BirthDate(r.ResidentCode)) + `(?:$|\D)`)},
			item{"the resident code of " + who, regexp.MustCompile(`(?:^|\D)` + regexp.QuoteMeta(r.ResidentCode) + `(?:$|\D)`)})
	}
	for i, v := range proxyPersonal {
		add(fmt.Sprintf("the proxy's personal data #%d", i+1), v)
	}
	return func(b []byte) []string {
		var found []string
		for _, it := range items {
			if it.re.Match(b) {
				found = append(found, it.what)
			}
		}
		return found
	}
}

// TestPINMatcher checks the scan's PIN matcher: it finds a PIN in every form
// a leak would take and ignores the PIN's digits inside identifiers,
// timestamps and process ids.
func TestPINMatcher(t *testing.T) {
	pins := pinMatcher()
	auth, sign := testPINs["auth"], testPINs["sign"]
	b64 := base64.StdEncoding.EncodeToString
	blob := b64([]byte(`{"kind":"sign","pin":"` + sign + `"}`))
	for _, leak := range []string{
		auth, `{"pin":"` + auth + `"}`, `{"pin":` + auth + `}`, `{"pin": ` + auth + `, "kind": "auth"}`, "pin=" + auth + " ok",
		"auth:" + auth, "[" + auth + "]", "x " + sign + "y", strings.ToLower(sign), "pin " + strings.ToUpper(hex.EncodeToString([]byte(sign))),
		hex.EncodeToString([]byte(auth)), `"` + hex.EncodeToString([]byte(auth)) + `"`,
		b64([]byte(sign)), `"` + b64([]byte(auth)) + `"`, base64.RawURLEncoding.EncodeToString([]byte(auth)), blob,
		"\x0a\x04" + auth + "\x12",
	} {
		if len(pins([]byte(leak))) == 0 {
			t.Errorf("the scan misses a PIN in %q", leak)
		}
	}
	for _, benign := range []string{
		"7d554ef9-3d0b-4744-" + auth + "-4b0801567d5e", "2026-11-26T03:08:1" + auth + "Z", "serial a" + auth + "f",
		"sha256 0a" + hex.EncodeToString([]byte(auth)) + "ff", "took 1" + auth + "ms", "port 3" + auth,
		`time=2026-12-01T10:00:00Z level=INFO msg=started pid=` + auth, `{"pid":` + auth + `}`,
		"2026-12-01 10:00:00.123 UTC [" + auth + "] LOG:  checkpoint starting",
	} {
		if found := pins([]byte(benign)); len(found) > 0 {
			t.Errorf("the scan takes %q for a PIN: %v", benign, found)
		}
	}
}

// TestHistoryScan checks the scan of a history on events made here: a
// payload or a failure message in clear is found, an encoded failure whose
// attributes the codec encrypted is not.
func TestHistoryScan(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	c, err := codec.New(key)
	if err != nil {
		t.Fatal(err)
	}
	r := demo.Find(demo.ResidentPrivacy)
	clear := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`{"name":"` + r.Name + `","pin":` + testPINs["auth"] + `}`)}
	encrypted, err := c.Encode([]*commonpb.Payload{clear,
		{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`{"message":"refused"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	started := func(p *commonpb.Payload) *historypb.HistoryEvent {
		return &historypb.HistoryEvent{EventId: 1, EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
				Input: &commonpb.Payloads{Payloads: []*commonpb.Payload{p}}}}}
	}
	failed := func(f *failurepb.Failure) *historypb.HistoryEvent {
		return &historypb.HistoryEvent{EventId: 5, EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED,
			Attributes: &historypb.HistoryEvent_ActivityTaskFailedEventAttributes{ActivityTaskFailedEventAttributes: &historypb.ActivityTaskFailedEventAttributes{
				Failure: &failurepb.Failure{Source: "GoSDK", Message: "Encoded failure", EncodedAttributes: encrypted[1], Cause: f}}}}
	}
	tests := []struct {
		name  string
		ev    *historypb.HistoryEvent
		kinds []string // the kinds of leak the scan must report, sorted
	}{
		{"a payload in clear", started(clear), []string{"personal", "pin"}},
		{"an encrypted payload", started(encrypted[0]), []string{"pin"}}, // decrypted, the PIN shows
		{"a failure message in clear", failed(&failurepb.Failure{Source: "GoSDK", Message: "refused: " + r.Address}), []string{"failure", "personal"}},
		{"an encoded failure", failed(nil), nil},
		{"a server's timeout", failed(&failurepb.Failure{Message: "activity StartToClose timeout",
			FailureInfo: &failurepb.Failure_TimeoutFailureInfo{TimeoutFailureInfo: &failurepb.TimeoutFailureInfo{}}}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newLeakScan()
			s.history("canary", []*historypb.HistoryEvent{tt.ev}, c)
			var kinds []string
			for _, l := range s.leaks {
				kinds = append(kinds, l.kind)
			}
			slices.Sort(kinds)
			if kinds = slices.Compact(kinds); !slices.Equal(kinds, tt.kinds) {
				t.Fatalf("found %v (%v), want %v", kinds, s.leaks, tt.kinds)
			}
		})
	}
}

// TestPersonalMatcher: the register's data is found in bytes; case numbers,
// serials and timestamps are not taken for it.
func TestPersonalMatcher(t *testing.T) {
	personal := personalMatcher()
	r := demo.Find(demo.ResidentPrivacy)
	for _, v := range []string{r.Name, "\x12\x0c" + r.Address, `"birthDate":"` + demo.BirthDate(r.ResidentCode) + `"`, "code " + r.ResidentCode, proxyPersonal[1]} {
		if len(personal([]byte(v))) == 0 {
			t.Errorf("the scan misses personal data in %q", v)
		}
	}
	for _, v := range []string{"131016-20261201-000087", "inperson-issuance/131016-20261201-000001", "2026-12-01T10:00:00Z", "1" + r.ResidentCode, "窓口 一郎"} {
		if found := personal([]byte(v)); len(found) > 0 {
			t.Errorf("the scan takes %q for personal data: %v", v, found)
		}
	}
}

// recordsProcedures are the disclosure and correction procedures, both
// sides.
var recordsProcedures = []string{contract.ProcInPersonDisclosureRequest, contract.ProcProxyDisclosureRequest, contract.ProcDisclosure,
	contract.ProcInPersonCorrectionRequest, contract.ProcProxyCorrectionRequest, contract.ProcCorrection}

// disclosedIn fails the test if a disclosed record's serial is in clear in
// a stored history: the records go to the requester only, by letter.
func disclosedIn(t *testing.T, where string, evs []*historypb.HistoryEvent, serials []string) {
	t.Helper()
	for _, ev := range evs {
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range serials {
			if regexp.MustCompile(`(?:^|[^0-9a-f])` + regexp.QuoteMeta(s) + `(?:$|[^0-9a-f])`).Match(b) {
				t.Errorf("a disclosed record (serial %s) is in clear in %s (stored)", s, where)
			}
		}
	}
}

// withoutCiphertext is an event as stored with the data of its encrypted
// payloads left out (their metadata, and every payload in clear, kept).
func withoutCiphertext(ev *historypb.HistoryEvent) []byte {
	stripped := proto.Clone(ev).(*historypb.HistoryEvent)
	_ = proxy.VisitPayloads(context.Background(), stripped, proxy.VisitPayloadsOptions{
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			out := make([]*commonpb.Payload, len(ps))
			for i, p := range ps {
				out[i] = p
				if codec.Encrypted(p) {
					out[i] = &commonpb.Payload{Metadata: p.GetMetadata()}
				}
			}
			return out, nil
		}})
	b, err := proto.Marshal(stripped)
	if err != nil {
		panic(err)
	}
	return b
}
