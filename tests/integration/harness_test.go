// Package integration drives madoguchi through the gateway's HTTP API on the
// real stack: the Temporal dev server, Postgres, SoftHSM through PKCS#11 and
// pcscd with vsmartcard-vpcd and the virtual card. scripts/test.sh starts the
// services and sets MADOGUCHI_INTEGRATION=1; the tests start madoguchi's own
// processes from MADOGUCHI_BIN so they can kill and restart them.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/madoguchi/madoguchi/internal/codec"
	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/temporalclient"
)

var (
	cfg        config.Config
	logDir     string
	gatewayURL string
)

// terminal is a counter terminal of the tests: its card agent, reader,
// virtual card port and touch panel.
type terminal struct {
	id, reader, panel, municipality string
	vpcdPort                        int
}

var (
	// chiyodaT is 千代田区's terminal T0001 on reader 0.
	chiyodaT = terminal{id: "T0001", reader: "Virtual PCD 00 00", panel: "http://127.0.0.1:18181", municipality: "131016", vpcdPort: 35963}
	// yokohamaT is 横浜市's terminal Y0001 on reader 1 (the relay's).
	yokohamaT = terminal{id: "Y0001", reader: "Virtual PCD 00 01", panel: "http://127.0.0.1:18182", municipality: "141003", vpcdPort: 35964}
	panelURL  = chiyodaT.panel
	// postT is 千代田郵便局's terminal P0001, on reader 1 too (so a test
	// using it first takes Yokohama's agent and card off that reader).
	postT = terminal{id: "P0001", reader: "Virtual PCD 00 01", panel: "http://127.0.0.1:18183", vpcdPort: 35964}
)

// Short inquiry deadlines, so that a lapse can be seen within the test.
const (
	testReplyWindow   = 25 * time.Second
	testEarliestReply = 2 * time.Second
)

func TestMain(m *testing.M) {
	if os.Getenv("MADOGUCHI_INTEGRATION") != "1" {
		fmt.Println("integration: MADOGUCHI_INTEGRATION is not 1; run `make test`, which starts the real stack")
		os.Exit(m.Run()) // each test skips itself
	}
	cfg = config.FromEnv()
	gatewayURL = "http://" + cfg.GatewayAddr
	logDir = filepath.Join(cfg.State, "logs", "integration")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var err error
	if rawTLS, err = temporalclient.TLSConfig(cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	setup := exec.Command(filepath.Join(cfg.Bin, "setup"))
	// setup makes the Schedules, a start: the gateway's identity on the cluster.
	setup.Env = append(os.Environ(), identityEnv("gateway")...)
	if out, err := setup.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "setup failed: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	if err := recordHistories(); err != nil {
		fmt.Fprintln(os.Stderr, "record histories:", err)
		code = 1
	}
	stopAll()
	os.Exit(code)
}

func requireStack(t *testing.T) {
	t.Helper()
	if os.Getenv("MADOGUCHI_INTEGRATION") != "1" {
		t.Skip("needs the real stack: run `make test`")
	}
}

// beginTest starts the back office and ends what earlier tests left running.
func beginTest(t *testing.T) {
	t.Helper()
	requireStack(t)
	startBackOffice(t)
	terminateStale(t)
}

// proc is one of madoguchi's processes started by the tests.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

var (
	procsMu sync.Mutex
	procs   = map[string]*proc{}
)

// metricsAddrs are where the processes the tests start serve their
// Prometheus metrics (metrics_test.go scrapes them).
var metricsAddrs = map[string]string{
	"worker-ca": "127.0.0.1:19201", "worker-municipal": "127.0.0.1:19202", "gateway": "127.0.0.1:19203",
	"repository": "127.0.0.1:19204", "cardagent-T0001": "127.0.0.1:19205",
}

// start starts a binary from MADOGUCHI_BIN with extra environment, logging to
// logDir/<name>.log, unless a process of that name runs already.
func start(t testing.TB, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	procsMu.Lock()
	defer procsMu.Unlock()
	if p, ok := procs[name]; ok {
		select {
		case <-p.done:
		default:
			return p
		}
	}
	logf, err := os.OpenFile(filepath.Join(logDir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(cfg.Bin, bin), args...)
	cmd.Env = append(append(os.Environ(), identityEnv(name)...), env...)
	if addr, ok := metricsAddrs[name]; ok {
		cmd.Env = append(cmd.Env, "MADOGUCHI_METRICS_ADDR="+addr)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// Pdeathsig: a test binary that dies (a panic, a timeout) takes its
	// processes with it instead of leaving them on the card reader's port.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	procs[name] = p
	return p
}

// kill sends SIGKILL to a process and waits for it to die.
func kill(t testing.TB, name string) {
	t.Helper()
	procsMu.Lock()
	p := procs[name]
	delete(procs, name)
	procsMu.Unlock()
	if p == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits.
func stop(name string) {
	procsMu.Lock()
	p := procs[name]
	delete(procs, name)
	procsMu.Unlock()
	if p == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

func stopAll() {
	procsMu.Lock()
	names := make([]string, 0, len(procs))
	for n := range procs {
		names = append(names, n)
	}
	procsMu.Unlock()
	for _, n := range names {
		stop(n)
	}
}

// startBackOffice starts the workers and the gateway (idempotent).
func startBackOffice(t testing.TB) {
	t.Helper()
	startCAWorker(t, nil)
	// The municipal worker and the gateway serve every office of the
	// deployment: they keep the master keyring.
	start(t, "worker-municipal", "worker", nil)
	start(t, "gateway", "gateway", []string{
		"MADOGUCHI_INQUIRY_REPLY_WINDOW=" + testReplyWindow.String(),
		"MADOGUCHI_INQUIRY_EARLIEST_REPLY=" + testEarliestReply.String()})
	waitHTTP(t, gatewayURL+"/healthz")
}

// startTerminal starts the card agent of terminal T0001 and a virtual card
// with the given serial in its reader. hold makes the card agent stop before
// writing certificates (the crash test's fault hook).
func startTerminal(t testing.TB, cardSerial, cardExpiry string, hold bool) {
	t.Helper()
	startTerminalOf(t, chiyodaT, cardSerial, cardExpiry, hold)
}

// startTerminalOf starts a terminal's card agent, with a card in its reader
// when cardSerial is set. Each municipality's agent holds its own sealing keys.
func startTerminalOf(t testing.TB, term terminal, cardSerial, cardExpiry string, hold bool) {
	t.Helper()
	var env []string
	if hold {
		env = append(env, "MADOGUCHI_FAULT_HOLD_BEFORE_WRITE=1")
	}
	startTerminalWith(t, term, cardSerial, cardExpiry, env...)
}

// startTerminalWith starts a terminal's card agent with fault switches of
// the tests' build in its environment; they end with the test. Every
// terminal holds the demo terminal key, so it may reset PINs.
func startTerminalWith(t testing.TB, term terminal, cardSerial, cardExpiry string, env ...string) {
	t.Helper()
	if len(env) > 0 {
		// An agent already running lacks the fault hook; the hook must not
		// outlive the test that set it.
		kill(t, "cardagent-"+term.id)
		t.Cleanup(func() { kill(t, "cardagent-"+term.id) })
	}
	if cardSerial != "" {
		insertCard(t, term, cardSerial, cardExpiry)
	}
	args := []string{"-terminal", term.id, "-reader", term.reader, "-panel", strings.TrimPrefix(term.panel, "http://"),
		"-terminal-key", terminalKeyFile()}
	if term.municipality != "" {
		// A municipality's terminals hold its sealing keys; a post office's none.
		args = append(args, "-sealing-keys", filepath.Join(cfg.State, "sealing", term.municipality))
	}
	// Its codec holds only the scopes of the cases it works (docs/CODEC.md).
	env = append(env, "MADOGUCHI_CODEC_KEY_FILE="+exportKeyring(t, "cardagent-"+term.id, terminalScopes(term.id), false))
	start(t, "cardagent-"+term.id, "cardagent", env, args...)
	waitHTTP(t, term.panel+"/api/pending")
}

// terminateStale ends procedures an earlier, failed test left running, so
// that their card steps cannot occupy a terminal the next test needs.
func terminateStale(t testing.TB) {
	t.Helper()
	c, err := client.Dial(rawOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: cfg.TemporalNamespace, PageSize: 1000,
		Query: "ExecutionStatus = 'Running' AND MadoguchiProcedure IN ('inperson-issuance', 'proxy-issuance', 'relay-forwarding', 'relay-issuance')"})
	if err != nil {
		t.Fatalf("list running procedures: %v", err)
	}
	for _, e := range resp.Executions {
		_ = c.TerminateWorkflow(ctx, e.Execution.WorkflowId, e.Execution.RunId, "left running by an earlier test")
	}
}

// insertCard replaces the card in a terminal's reader with the virtual card
// of the given serial (its state is kept per serial, so a card keeps its keys).
func insertCard(t testing.TB, term terminal, serial, expiry string) {
	t.Helper()
	stop("vcard-" + term.id)
	state := filepath.Join(cfg.State, "cards", serial+".json")
	if err := os.MkdirAll(filepath.Dir(state), 0o700); err != nil {
		t.Fatal(err)
	}
	start(t, "vcard-"+term.id, "vcard", nil, "-state", state, "-port", fmt.Sprint(term.vpcdPort), "-serial", serial, "-expiry", strings.ReplaceAll(expiry, "-", ""),
		"-terminal-authority", filepath.Join(cfg.State, "terminal-auth", "authority.pub"))
}

// startCAWorker starts the Organization's CA worker with extra environment
// and its scoped keyring: every municipality's scope and the
// Organization's, for it issues for all and runs the Organization's
// workflows, but no master key (docs/CODEC.md).
func startCAWorker(t testing.TB, env []string) {
	t.Helper()
	scopes := make([]string, 0, len(demo.Municipalities))
	for _, m := range demo.Municipalities {
		scopes = append(scopes, m[0])
	}
	env = append(env, "MADOGUCHI_CODEC_KEY_FILE="+exportKeyring(t, "worker-ca", scopes, true))
	start(t, "worker-ca", "caworker", env)
}

// terminalScopes are the municipalities whose cases a terminal works: its
// office's, if a municipality, and those that delegate to its office (a
// post office's terminal works only for the delegating municipality;
// 横浜市's also for 川崎市, 第2 5).
func terminalScopes(terminalID string) []string {
	office := ""
	for _, term := range demo.Terminals {
		if term[0] == terminalID {
			office = term[1]
		}
	}
	var scopes []string
	if codec.ScopeOfWorkflowID(office) == office {
		scopes = append(scopes, office)
	}
	for _, d := range demo.Delegations {
		if d.Office == office && !slices.Contains(scopes, d.Municipality) {
			scopes = append(scopes, d.Municipality)
		}
	}
	return scopes
}

// exportKeyring writes a process's scoped keyring with `codeckey export`
// from the master keyring, and returns its path.
func exportKeyring(t testing.TB, name string, municipalities []string, organization bool) string {
	t.Helper()
	dir := filepath.Join(cfg.State, "codec-keys")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".key")
	args := []string{"export", "-file", cfg.CodecKeyFile, "-out", path, "-municipality", strings.Join(municipalities, ",")}
	if organization {
		args = append(args, "-organization")
	}
	if out, err := exec.Command(filepath.Join(cfg.Bin, "codeckey"), args...).CombinedOutput(); err != nil {
		t.Fatalf("codeckey export for %s: %v\n%s", name, err, out)
	}
	return path
}

// terminalKeyFile is the demo terminals' key for the PIN reset, which
// setup makes and every test card trusts (docs/CARD.md §5a).
func terminalKeyFile() string { return filepath.Join(cfg.State, "terminal-auth", "terminal.key") }

func waitHTTP(t testing.TB, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer within 60s", url)
}

// api is a logged-in clerk's HTTP client.
type api struct {
	t     testing.TB
	token string
}

func login(t testing.TB, user string) *api {
	t.Helper()
	a := &api{t: t}
	var res struct{ Token string }
	if code := a.do("POST", "/api/login", map[string]string{"login": user, "password": "madoguchi-demo"}, &res); code != 200 {
		t.Fatalf("login %s: HTTP %d", user, code)
	}
	a.token = res.Token
	return a
}

// do sends a JSON request and decodes the JSON answer into out; it returns
// the HTTP status.
func (a *api) do(method, path string, body, out any) int {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, gatewayURL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: HTTP %d, undecodable body %q", method, path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode
}

// apiErr is the gateway's error body.
type apiErr struct {
	Error struct{ Code, Message string }
}

// waitStep polls the state query until the procedure reaches one of steps.
func (a *api) waitStep(caseNumber string, timeout time.Duration, steps ...string) map[string]any {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	var st map[string]any
	for time.Now().Before(deadline) {
		st = nil
		if a.do("GET", "/api/cases/"+caseNumber, nil, &st) == 200 {
			for _, s := range steps {
				if st["step"] == s {
					return st
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	a.t.Fatalf("case %s did not reach %v within %v; last state %v", caseNumber, steps, timeout, st)
	return nil
}

// enterPINs answers T0001's touch panel as the applicant does.
func enterPINs(t testing.TB, ctx context.Context, pins map[string]string) {
	t.Helper()
	enterPINsAt(t, ctx, panelURL, pins)
}

// enterPINsAt answers a terminal's touch panel.
func enterPINsAt(t testing.TB, ctx context.Context, panelURL string, pins map[string]string) {
	t.Helper()
	for {
		var p struct {
			Pending bool
			ID      string
			Kinds   []string
		}
		resp, err := http.Get(panelURL + "/api/pending")
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
		}
		if p.Pending {
			for _, k := range p.Kinds {
				b, _ := json.Marshal(map[string]string{"id": p.ID, "kind": k, "pin": pins[k], "confirm": pins[k]})
				r, err := http.Post(panelURL+"/api/pin", "application/json", bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				r.Body.Close()
				if r.StatusCode != http.StatusNoContent {
					t.Fatalf("touch panel refused the %s PIN: HTTP %d", k, r.StatusCode)
				}
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("the touch panel never asked for the PINs")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// verifyPINAt answers a terminal's touch panel in verify mode: it waits for
// the request for the kind's PIN and types it once, as the holder does.
func verifyPINAt(t testing.TB, ctx context.Context, panelURL, kind, pin string) {
	t.Helper()
	for {
		var p struct {
			Pending bool
			ID      string
			Mode    string
			Kinds   []string
		}
		resp, err := http.Get(panelURL + "/api/pending")
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
		}
		if p.Pending && p.Mode == "verify" && slices.Contains(p.Kinds, kind) {
			b, _ := json.Marshal(map[string]string{"id": p.ID, "kind": kind, "pin": pin})
			r, err := http.Post(panelURL+"/api/pin", "application/json", bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if r.StatusCode != http.StatusNoContent {
				t.Fatalf("touch panel refused the %s PIN: HTTP %d", kind, r.StatusCode)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the touch panel never asked to verify the %s PIN", kind)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// panelRequest is what GET /api/pending says is asked for.
type panelRequest struct {
	Pending   bool
	ID        string
	Mode      string
	Kinds     []string
	TriesLeft int
	EnteredBy string
}

// waitPanel polls a terminal's touch panel until it asks in mode for all
// of kinds (any kinds when none are named).
func waitPanel(t testing.TB, ctx context.Context, panelURL, mode string, kinds ...string) panelRequest {
	t.Helper()
	for {
		var p panelRequest
		resp, err := http.Get(panelURL + "/api/pending")
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
		}
		if p.Pending && p.Mode == mode && !slices.ContainsFunc(kinds, func(k string) bool { return !slices.Contains(p.Kinds, k) }) {
			return p
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the touch panel never asked in %s mode for %v", mode, kinds)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// postPIN sends one entry to the panel and fails the test unless it is taken.
func postPIN(t testing.TB, panelURL string, entry map[string]string) {
	t.Helper()
	b, _ := json.Marshal(entry)
	r, err := http.Post(panelURL+"/api/pin", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNoContent {
		t.Fatalf("touch panel refused the %s entry: HTTP %d", entry["kind"], r.StatusCode)
	}
}

// changePINAt answers a terminal's touch panel in change mode: it waits
// for the request to change the kind's PIN and types the current PIN once
// and the new one twice, as the holder does.
func changePINAt(t testing.TB, ctx context.Context, panelURL, kind, current, new string) {
	t.Helper()
	p := waitPanel(t, ctx, panelURL, "change", kind)
	postPIN(t, panelURL, map[string]string{"id": p.ID, "kind": kind, "current": current, "pin": new, "confirm": new})
}

// resetPINAt answers a terminal's touch panel in reset mode: it waits for
// the request and types each new PIN asked for twice.
func resetPINAt(t testing.TB, ctx context.Context, panelURL string, pins map[string]string) {
	t.Helper()
	p := waitPanel(t, ctx, panelURL, "reset")
	for _, k := range p.Kinds {
		pin, ok := pins[k]
		if !ok {
			t.Fatalf("the touch panel asks for a new %s PIN the test has none for", k)
		}
		postPIN(t, panelURL, map[string]string{"id": p.ID, "kind": k, "pin": pin, "confirm": pin})
	}
}
