// Package bench measures in-person issuances end to end on the real
// Temporal dev server, Postgres and the CA on SoftHSM, against a no-op
// workflow of the same shape on the same server in the same run.
//
// The human steps take no time: the clerk's identity check is sent with the
// start (update-with-start) and the touch panel answers at once. The virtual
// cards take their RSA keys from a pool generated before the timer starts
// (a real card generates them on its own chip, not on our CPU) and are
// attached to the card agents' activities in-process, without PC/SC.
//
//	make bench   (or: source <state>/env; go test -run '^$' -bench 'InPersonIssuance|NoopShape' -benchtime 100x ./tests/bench)
package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/activities/terminal"
	"github.com/madoguchi/madoguchi/cardagent"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/cardclient"
	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/internal/temporalclient"
	"github.com/madoguchi/madoguchi/internal/vcard"
	"github.com/madoguchi/madoguchi/worker"
	"github.com/madoguchi/madoguchi/worker/caworker"
	"github.com/madoguchi/madoguchi/workflows"
)

const maxTerminals = 20

// serverName names the Temporal server the stack runs on in the
// benchmarks' names, so one `make bench` output compares the two: "cluster"
// (scripts/cluster.sh's four services, mTLS, our authorizer) or "dev" (the
// CLI's dev server).
func serverName() string {
	if os.Getenv("MADOGUCHI_CLUSTER") == "1" {
		return "cluster"
	}
	return "dev"
}

// stack is the in-process back office the benchmarks drive.
type stack struct {
	cfg       config.Config
	db        *storage.DB
	tc        client.Client
	terminals []*benchTerminal
	clerkID   int64
	seq       atomic.Int64
	caConn    *ca.Conn
}

var (
	stackOnce sync.Once
	theStack  *stack
	stackErr  error
)

func getStack(b *testing.B) *stack {
	if os.Getenv("MADOGUCHI_DB_DSN") == "" || os.Getenv("MADOGUCHI_PKCS11_PIN") == "" {
		b.Skip("needs the real stack: run `make bench`")
	}
	stackOnce.Do(func() { theStack, stackErr = newStack() })
	if stackErr != nil {
		b.Fatal(stackErr)
	}
	return theStack
}

func newStack() (*stack, error) {
	ctx := context.Background()
	// The workers' activities log through slog's default: only warnings and
	// errors here, so that the benchmarks' figures stay on their lines.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	cfg := config.FromEnv()
	db, err := storage.Open(ctx, cfg.DBDSN)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	if err := demo.Seed(ctx, db); err != nil {
		return nil, err
	}
	if err := caworker.Setup(ctx, cfg); err != nil {
		return nil, err
	}
	clerk, err := db.ClerkByLogin(ctx, "clerk1")
	if err != nil {
		return nil, err
	}
	tc, err := temporalclient.Dial(cfg)
	if err != nil {
		return nil, err
	}
	s := &stack{cfg: cfg, db: db, tc: tc, clerkID: clerk.ID}
	// Bench residents are numbered 9xxxxxxxxxx, continuing earlier runs.
	var last int64
	if err := db.Pool.QueryRow(ctx, `SELECT COALESCE(max(resident_code::bigint), 90000000000) FROM residents WHERE resident_code LIKE '9%'`).Scan(&last); err != nil {
		return nil, err
	}
	s.seq.Store(last)

	workers, err := s.municipalAndCA(ctx, tc)
	if err != nil {
		return nil, err
	}

	for i := range maxTerminals {
		t := &benchTerminal{id: fmt.Sprintf("B%04d", i+1)}
		if err := insertTerminal(ctx, db, t.id); err != nil {
			return nil, err
		}
		w := sdkworker.New(tc, contract.TerminalTaskQueue(t.id), sdkworker.Options{MaxConcurrentActivityExecutionSize: 1})
		w.RegisterActivity(&terminal.Card{Reader: t, Panel: instantPanel{}})
		w.RegisterActivity(&noop{})
		workers = append(workers, w)
		s.terminals = append(s.terminals, t)
	}
	for _, w := range workers {
		if err := w.Start(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// municipalAndCA makes a municipal worker and a CA worker on client tc, not
// started: the stack has one pair, and the scale-out benchmark adds a second
// pair on a client of its own.
func (s *stack) municipalAndCA(ctx context.Context, tc client.Client) ([]sdkworker.Worker, error) {
	mw := sdkworker.New(tc, contract.MunicipalTaskQueue, worker.MunicipalOptions())
	worker.RegisterMunicipal(mw, s.db, tc)
	mw.RegisterWorkflowWithOptions(NoopShape, workflow.RegisterOptions{Name: "NoopShape"})
	mw.RegisterActivity(&noop{})

	// One HSM context per process (PKCS#11 is initialised once): a second
	// CA worker here signs through the same context's session pool.
	if s.caConn == nil {
		conn, err := ca.Connect(ctx, s.cfg.JLISDSN)
		if err != nil {
			return nil, err
		}
		s.caConn = conn
	}
	authority, err := s.caConn.Load(ctx, ca.Options{RepositoryURL: s.cfg.RepositoryURL, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	cw := sdkworker.New(tc, contract.CATaskQueue, caworker.Options())
	caworker.Register(cw, authority)
	cw.RegisterActivity(&noop{})
	return []sdkworker.Worker{mw, cw}, nil
}

func insertTerminal(ctx context.Context, db *storage.DB, id string) error {
	_, err := db.Pool.Exec(ctx, `INSERT INTO terminals (id, municipality_code, reader_name) VALUES ($1, $2, 'in-process') ON CONFLICT DO NOTHING`, id, demo.Chiyoda)
	return err
}

// benchTerminal is a counter benchTerminal whose reader holds an in-process virtual card.
type benchTerminal struct {
	id   string
	card atomic.Pointer[vcard.Applet]
}

// Open attaches the inserted card without PC/SC.
func (t *benchTerminal) Open(ctx context.Context) (terminal.CardSession, error) {
	a := t.card.Load()
	if a == nil {
		return nil, fmt.Errorf("no card in benchTerminal %s", t.id)
	}
	return cardagent.Attach(cardclient.NewDirect(a), func() error { return nil })
}

// instantPanel is an applicant who types both PINs at once.
type instantPanel struct{}

func (instantPanel) Collect(_ context.Context, req terminal.PINRequest) (map[string][]byte, error) {
	return map[string][]byte{contract.KindSigning: []byte("BENCH2026"), contract.KindUserAuth: []byte("2026")}, nil
}

// applicant is one prepared issuance: a resident in the register with a card.
type applicant struct {
	caseNumber string
	app        contract.Application
	card       *vcard.Applet
}

// prepare registers n fresh residents with their blank cards and cases.
func (s *stack) prepare(b *testing.B, n int, keys vcard.KeySource) []applicant {
	ctx := context.Background()
	out := make([]applicant, n)
	for i := range out {
		k := s.seq.Add(1)
		code := fmt.Sprintf("%011d", k)
		serial := "B" + code
		if _, err := s.db.Pool.Exec(ctx, `INSERT INTO residents (resident_code, municipality_code, name, birth_date, sex, address, status)
			VALUES ($1, $2, $3, '1985-06-15', 'female', '東京都千代田区千代田1番1号', 'resident')`, code, demo.Chiyoda, "試験 花子"); err != nil {
			b.Fatal(err)
		}
		if _, err := s.db.Pool.Exec(ctx, `INSERT INTO cards (card_serial, resident_code, expires_on) VALUES ($1, $2, '2035-06-15')`, serial, code); err != nil {
			b.Fatal(err)
		}
		cn := fmt.Sprintf("%s-B-%011d", demo.Chiyoda, k)
		if err := s.db.InsertCase(ctx, storage.Case{CaseNumber: cn, MunicipalityCode: demo.Chiyoda, Procedure: workflows.ProcedureInPersonIssuance,
			WorkflowID: workflows.WorkflowID(workflows.ProcedureInPersonIssuance, cn), OpenedBy: s.clerkID}); err != nil {
			b.Fatal(err)
		}
		st, err := vcard.NewState(serial, "20350615")
		if err != nil {
			b.Fatal(err)
		}
		// A low PIN-verifier cost: the card's own chip does this, not our CPU.
		card, err := vcard.NewApplet(st, vcard.Options{Keys: keys, PINIterations: 1000})
		if err != nil {
			b.Fatal(err)
		}
		out[i] = applicant{caseNumber: cn, card: card, app: contract.Application{ResidentCode: code, Name: "試験 花子",
			BirthDate: "1985-06-15", Sex: "female", Address: "東京都千代田区千代田1番1号", Signing: true, UserAuth: true}}
	}
	return out
}

// issueOne runs one procedure with the identity check sent with the start
// and waits for its result.
func (s *stack) issueOne(ctx context.Context, wf any, name string, terminalID string, a applicant) error {
	id := workflows.WorkflowID(name, a.caseNumber)
	start := s.tc.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: id, TaskQueue: contract.MunicipalTaskQueue, WorkflowIDConflictPolicy: 1, // fail
		TypedSearchAttributes: workflows.SearchAttributes(name, a.caseNumber, demo.Chiyoda),
	}, wf, workflows.InPersonIssuanceInput{CaseNumber: a.caseNumber, MunicipalityCode: demo.Chiyoda, TerminalID: terminalID,
		Clerk: "clerk1", Application: a.app})
	h, err := s.tc.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{UpdateName: workflows.ConfirmIdentityUpdate,
			Args:         []any{workflows.ConfirmIdentityInput{Clerk: "clerk1", DocumentType: "individual_number_card", Verified: true}},
			WaitForStage: client.WorkflowUpdateStageAccepted},
	})
	if err != nil {
		return fmt.Errorf("%s: update-with-start: %w", id, err)
	}
	var res workflows.InPersonIssuanceResult
	if err := s.tc.GetWorkflow(ctx, id, h.RunID()).Get(ctx, &res); err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	if res.Status != workflows.StatusCompleted {
		return fmt.Errorf("%s ended %s: %+v", id, res.Status, res.Rejection)
	}
	return nil
}

// runConcurrent runs b.N procedures, c at a time, one benchTerminal per lane, and
// reports procedures per second and latency percentiles.
func runConcurrent(b *testing.B, c int, wf any, name string) {
	s := getStack(b)
	keys, err := vcard.NewKeyPool(2 * b.N)
	if err != nil {
		b.Fatal(err)
	}
	apps := s.prepare(b, b.N, keys)
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, c)
	ctx := context.Background()
	b.ResetTimer()
	cpu0 := readStackCPU()
	server0, serverOK := readServerMetrics()
	stopProfile := profileTimed(b, name, c)
	began := time.Now()
	for lane := range c {
		wg.Add(1)
		go func(t *benchTerminal) {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				t.card.Store(apps[i].card)
				t0 := time.Now()
				if err := s.issueOne(ctx, wf, name, t.id, apps[i]); err != nil {
					errs <- err
					return
				}
				lat[i] = time.Since(t0)
			}
		}(s.terminals[lane])
	}
	wg.Wait()
	elapsed := time.Since(began)
	cpu := readStackCPU().sub(cpu0)
	server1, serverOK1 := readServerMetrics()
	stopProfile()
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "procedures/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
	// Where each procedure's CPU goes, in ms (readStackCPU).
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(per(cpu.temporal), "temporal-cpu-ms/op")
	b.ReportMetric(per(cpu.postgres), "postgres-cpu-ms/op")
	b.ReportMetric(per(cpu.self), "workers-cpu-ms/op")
	if serverOK && serverOK1 {
		reportServerMetrics(b, server0, server1, b.N)
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkInPersonIssuance is the real procedure: register check, card
// steps, RSA-2048 issuance on SoftHSM, card write, fee and documents.
func BenchmarkInPersonIssuance(b *testing.B) {
	for _, c := range []int{1, 20} {
		b.Run(fmt.Sprintf("server=%s/concurrent=%d", serverName(), c), func(b *testing.B) {
			runConcurrent(b, c, workflows.InPersonIssuance, workflows.ProcedureInPersonIssuance)
		})
	}
}

// BenchmarkNoopShape is the baseline: the same messages, queues, activities
// and update as the real procedure, each activity doing nothing.
func BenchmarkNoopShape(b *testing.B) {
	for _, c := range []int{1, 20} {
		b.Run(fmt.Sprintf("server=%s/concurrent=%d", serverName(), c), func(b *testing.B) {
			runConcurrent(b, c, NoopShape, "noop-shape")
		})
	}
}
