package bench

// The waiting list with 1,000 open cases (issue 7 item 9): the gateway's
// listing through Temporal visibility (gateway.ListCases, search attributes
// only) against the approach it replaced, one state query per open case, on
// the same cases of the same server in the same run.
//
// The cases are real InPersonIssuance workflows of the kit, waiting at the
// identity check: the only activity before that wait, the register check,
// is an in-process fake registered under its contract name on a task queue
// of this benchmark, so it needs Temporal only (no Postgres, no HSM). The
// per-case side queries by the workflow ids the benchmark started, where the
// old gateway read them from the municipal database first (a query of
// the cases table): the database read is left out of its figure.
//
//	make bench   (or: source <state>/env; go test -run '^$' -bench WaitingList -benchtime 1x ./tests/bench)

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/gateway"
	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/temporalclient"
	"github.com/madoguchi/madoguchi/workflows"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

const (
	waitingCases = 1000
	// waitingRounds is how many rounds of each approach one b.N iteration
	// measures; a round lists the waiting list visibilityPerRound times
	// through visibility, then once by querying every case one at a time,
	// then once with waitingConcurrency queries at a time.
	waitingRounds      = 10
	visibilityPerRound = 3
	waitingConcurrency = 8
	waitingTaskQueue   = "bench-waiting"
)

// fakeRegister answers the register check for every applicant.
func fakeRegister(_ context.Context, in contract.CheckRegisterInput) (contract.CheckRegisterResult, error) {
	return contract.CheckRegisterResult{Person: contract.PersonalInfo{Name: in.Application.Name}}, nil
}

func fakeRecordEvent(context.Context, contract.RecordEventInput) (contract.RecordEventResult, error) {
	return contract.RecordEventResult{}, nil
}

func fakeCloseCase(context.Context, contract.CloseCaseInput) (contract.CloseCaseResult, error) {
	return contract.CloseCaseResult{}, nil
}

// BenchmarkWaitingList reports the waiting list's latency through
// visibility and by one query per case (sequentially, as the old gateway
// did, and 8 at a time), p50 and p99 of whole listings of 1,000 cases, and
// the per-case/visibility ratios.
func BenchmarkWaitingList(b *testing.B) {
	if os.Getenv("MADOGUCHI_TEMPORAL_ADDR") == "" || os.Getenv("MADOGUCHI_CODEC_KEY_FILE") == "" {
		b.Skip("needs a Temporal server with madoguchi's search attributes: run `make bench`")
	}
	ctx := context.Background()
	tc, err := temporalclient.Dial(config.FromEnv())
	if err != nil {
		b.Fatal(err)
	}
	defer tc.Close()

	w := sdkworker.New(tc, waitingTaskQueue, sdkworker.Options{MaxConcurrentWorkflowTaskPollers: 8})
	w.RegisterWorkflowWithOptions(workflows.InPersonIssuance, workflow.RegisterOptions{Name: "InPersonIssuance"})
	w.RegisterActivityWithOptions(fakeRegister, activity.RegisterOptions{Name: contract.CheckRegister.Name})
	w.RegisterActivityWithOptions(fakeRecordEvent, activity.RegisterOptions{Name: contract.RecordEvent.Name})
	w.RegisterActivityWithOptions(fakeCloseCase, activity.RegisterOptions{Name: contract.CloseCase.Name})
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	defer w.Stop()

	// A municipality of this run only (99xxxx is no real code), so that
	// cases left by another run are not listed.
	municipality := fmt.Sprintf("99%04d", rand.IntN(10000))
	ids := make([]string, waitingCases)
	for i := range ids {
		ids[i] = workflows.WorkflowID(workflows.ProcedureInPersonIssuance, fmt.Sprintf("%s-W-%06d", municipality, i+1))
	}
	began := time.Now()
	if err := eachConcurrently(ids, 8, func(id string) error {
		_, cn, _ := workflows.ParseWorkflowID(id)
		_, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: id, TaskQueue: waitingTaskQueue,
			TypedSearchAttributes: workflows.SearchAttributes(workflows.ProcedureInPersonIssuance, cn, municipality),
		}, workflows.InPersonIssuance, workflows.InPersonIssuanceInput{CaseNumber: cn, MunicipalityCode: municipality,
			TerminalID: "W0001", Clerk: "clerk1", Application: contract.Application{ResidentCode: "90000000001", Name: "試験 花子",
				BirthDate: "1985-06-15", Sex: "female", Address: "東京都千代田区千代田1番1号", Signing: true, UserAuth: true}})
		return err
	}); err != nil {
		b.Fatal(err)
	}
	defer func() {
		// The cases would otherwise wait out the identity check's 8 hours.
		_ = eachConcurrently(ids, 8, func(id string) error {
			return tc.TerminateWorkflow(ctx, id, "", "waiting-list benchmark done")
		})
	}()

	// Visibility is eventually consistent: time nothing until it lists every
	// case as waiting.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		got, err := gateway.ListCases(ctx, tc, municipality, workflows.StatusOpen, true, waitingCases)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) == waitingCases {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("visibility lists %d of %d waiting cases after 5 min", len(got), waitingCases)
		}
		time.Sleep(500 * time.Millisecond)
	}
	b.Logf("%d cases of municipality %s started and listed as waiting in %s", waitingCases, municipality, time.Since(began).Round(time.Millisecond))

	// perCase is the old gateway's waiting list: the state of each open
	// case, kept when it waits for someone.
	var queries []time.Duration // each query of the sequential listings
	perCase := func(concurrency int) (time.Duration, error) {
		var waiting atomic.Int64
		lat := make([]time.Duration, len(ids))
		t0 := time.Now()
		err := eachIndexConcurrently(len(ids), concurrency, func(i int) error {
			q0 := time.Now()
			v, err := tc.QueryWorkflow(ctx, ids[i], "", kit.StateQuery)
			if err != nil {
				return err
			}
			var st kit.State
			if err := v.Get(&st); err != nil {
				return err
			}
			lat[i] = time.Since(q0)
			if st.WaitingFor != "" {
				waiting.Add(1)
			}
			return nil
		})
		d := time.Since(t0)
		if err == nil && waiting.Load() != waitingCases {
			err = fmt.Errorf("per-case: %d of %d cases waiting", waiting.Load(), waitingCases)
		}
		if concurrency == 1 {
			queries = append(queries, lat...)
		}
		return d, err
	}

	var vis, seq, par []time.Duration
	b.ResetTimer()
	for range b.N * waitingRounds {
		for range visibilityPerRound {
			t0 := time.Now()
			got, err := gateway.ListCases(ctx, tc, municipality, workflows.StatusOpen, true, waitingCases)
			if err != nil {
				b.Fatal(err)
			}
			vis = append(vis, time.Since(t0))
			if len(got) != waitingCases {
				b.Fatalf("visibility: %d of %d cases", len(got), waitingCases)
			}
		}
		d, err := perCase(1)
		if err != nil {
			b.Fatal(err)
		}
		seq = append(seq, d)
		if d, err = perCase(waitingConcurrency); err != nil {
			b.Fatal(err)
		}
		par = append(par, d)
	}
	b.StopTimer()

	for _, s := range [][]time.Duration{vis, seq, par, queries} {
		slices.Sort(s)
	}
	b.ReportMetric(waitingCases, "cases")
	b.ReportMetric(ms(pct(vis, 50)), "visibility-p50-ms")
	b.ReportMetric(ms(pct(vis, 99)), "visibility-p99-ms")
	b.ReportMetric(ms(pct(seq, 50)), "percase-p50-ms")
	b.ReportMetric(ms(pct(seq, 99)), "percase-p99-ms")
	b.ReportMetric(ms(pct(par, 50)), "percase8-p50-ms")
	b.ReportMetric(ms(pct(par, 99)), "percase8-p99-ms")
	b.ReportMetric(ms(pct(queries, 50)), "query-p50-ms")
	b.ReportMetric(ms(pct(queries, 99)), "query-p99-ms")
	b.ReportMetric(float64(pct(seq, 50))/float64(pct(vis, 50)), "percase/visibility-p50")
	b.ReportMetric(float64(pct(seq, 99))/float64(pct(vis, 99)), "percase/visibility-p99")
	b.ReportMetric(float64(pct(par, 50))/float64(pct(vis, 50)), "percase8/visibility-p50")
	b.ReportMetric(0, "ns/op")
	b.Logf("listings: visibility %d, per-case sequential %d, per-case %d at a time %d; single queries %d",
		len(vis), len(seq), waitingConcurrency, len(par), len(queries))
}

// pct is the p-th percentile of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func eachConcurrently(ids []string, c int, fn func(id string) error) error {
	return eachIndexConcurrently(len(ids), c, func(i int) error { return fn(ids[i]) })
}

// eachIndexConcurrently runs fn for 0..n-1, c at a time, and returns the
// first error.
func eachIndexConcurrently(n, c int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, c)
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
