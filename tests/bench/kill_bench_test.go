package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/internal/vcard"
	"github.com/madoguchi/madoguchi/workflows"
)

// BenchmarkKillUnderLoad is the kill test of the cluster: while in-person
// issuances run 20 at a time, the history process and then the matching
// process are SIGKILLed; their supervisors (scripts/supervise.sh) restart
// them. Every procedure must complete, with exactly one signing and one
// user-authentication certificate per case in the CA's database, and the
// pause each kill caused is reported: the longest stretch without a
// completed procedure in the 20 s after it.
//
// It needs the cluster (bash scripts/bench.sh runs it in its cluster pass);
// MADOGUCHI_KILL_PROCEDURES sets the number of procedures (default 160).
func BenchmarkKillUnderLoad(b *testing.B) {
	if serverName() != "cluster" {
		b.Skip("the kill test kills the cluster's processes: scripts/bench.sh runs it on the cluster")
	}
	s := getStack(b)
	n := 160
	if v, err := strconv.Atoi(os.Getenv("MADOGUCHI_KILL_PROCEDURES")); err == nil && v >= 40 {
		n = v
	}
	const c = 20
	keys, err := vcard.NewKeyPool(2 * n)
	if err != nil {
		b.Fatal(err)
	}
	apps := s.prepare(b, n, keys)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	var (
		mu       sync.Mutex
		finished []time.Time
		retries  atomic.Int64
		next     atomic.Int64
		wg       sync.WaitGroup
	)
	lat := make([]time.Duration, n)
	errs := make(chan error, c)
	b.ResetTimer()
	began := time.Now()
	for lane := range c {
		wg.Add(1)
		go func(t *benchTerminal) {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t.card.Store(apps[i].card)
				t0 := time.Now()
				if err := s.issueThroughFaults(ctx, t.id, apps[i], &retries); err != nil {
					errs <- err
					cancel()
					return
				}
				lat[i] = time.Since(t0)
				mu.Lock()
				finished = append(finished, time.Now())
				mu.Unlock()
			}
		}(s.terminals[lane])
	}
	completed := func() int { mu.Lock(); defer mu.Unlock(); return len(finished) }
	waitFor := func(k int) {
		for completed() < k && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}

	// A quarter done: kill history; half done (after it is back): kill matching.
	waitFor(n / 4)
	histKill, histBack := killService(ctx, b, "history")
	waitFor(max(n/2, completed()+n/8))
	matchKill, matchBack := killService(ctx, b, "matching")
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatalf("a procedure did not complete through the kills: %v", err)
	}

	// Exactly one certificate of each kind per case, and none for anyone else.
	codes := make([]string, n)
	for i, a := range apps {
		codes[i] = a.app.ResidentCode
	}
	rows, err := s.caConn.Pool.Query(context.Background(), `SELECT resident_code, kind, count(*) FROM ca_certificates
		WHERE resident_code = ANY($1) GROUP BY resident_code, kind ORDER BY resident_code, kind`, codes)
	if err != nil {
		b.Fatal(err)
	}
	perCase := map[string]int{}
	for rows.Next() {
		var code, kind string
		var k int
		if err := rows.Scan(&code, &kind, &k); err != nil {
			b.Fatal(err)
		}
		if k != 1 {
			b.Errorf("resident %s: %d %s certificates, want exactly 1", code, k, kind)
		}
		perCase[code]++
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	for _, code := range codes {
		if perCase[code] != 2 {
			b.Errorf("resident %s: %d kinds of certificate, want signing and user authentication", code, perCase[code])
		}
	}

	// The pause a kill caused: the longest stretch without a completed
	// procedure from the kill to 20 s after it or the next kill (a procedure
	// already past the dead service's steps may still complete right after
	// the kill).
	pause := func(kill, until time.Time) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		var longest time.Duration
		last := kill
		for _, t := range finished {
			if !t.After(kill) {
				continue
			}
			if t.After(kill.Add(20*time.Second)) || t.After(until) {
				break
			}
			longest = max(longest, t.Sub(last))
			last = t
		}
		return longest
	}
	slices.Sort(lat)
	secs := func(d time.Duration) float64 { return d.Seconds() }
	b.Logf("%d procedures, 20 at a time, in %v; history killed at %v, back (listening) after %v, longest stretch without a completion %v; "+
		"matching killed at %v, back after %v, longest stretch without a completion %v; %d client retries",
		n, elapsed.Round(time.Millisecond), histKill.Sub(began).Round(time.Millisecond), histBack.Round(time.Millisecond),
		pause(histKill, matchKill).Round(time.Millisecond), matchKill.Sub(began).Round(time.Millisecond), matchBack.Round(time.Millisecond),
		pause(matchKill, matchKill.Add(time.Minute)).Round(time.Millisecond), retries.Load())
	b.ReportMetric(float64(n)/elapsed.Seconds(), "procedures/s")
	b.ReportMetric(secs(histBack), "history-restart-s")
	b.ReportMetric(secs(pause(histKill, matchKill)), "history-pause-s")
	b.ReportMetric(secs(matchBack), "matching-restart-s")
	b.ReportMetric(secs(pause(matchKill, matchKill.Add(time.Minute))), "matching-pause-s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(retries.Load()), "client-retries")
	b.ReportMetric(0, "ns/op")
}

// killService SIGKILLs the cluster service's process (its supervisor's
// child) and waits until a new one listens on the service's gRPC port. It
// returns when it killed and how long the service was away.
func killService(ctx context.Context, b *testing.B, svc string) (time.Time, time.Duration) {
	state := os.Getenv("MADOGUCHI_STATE")
	childFile := filepath.Join(state, "run", "temporal-"+svc+".child.pid")
	pid, ok := pidFile(childFile)
	if !ok {
		b.Fatalf("no running %s: %s", svc, childFile)
	}
	// The services' gRPC ports follow the frontend's (scripts/lib.sh).
	_, port, err := net.SplitHostPort(os.Getenv("MADOGUCHI_TEMPORAL_ADDR"))
	if err != nil {
		b.Fatal(err)
	}
	base, _ := strconv.Atoi(port)
	grpc := map[string]int{"history": base + 2, "matching": base + 4}[svc]
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		b.Fatalf("kill %s (pid %d): %v", svc, pid, err)
	}
	killed := time.Now()
	for ctx.Err() == nil {
		if p, ok := pidFile(childFile); ok && p != pid {
			if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", grpc), 200*time.Millisecond); err == nil {
				_ = conn.Close()
				return killed, time.Since(killed)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("%s did not come back after the kill", svc)
	return killed, 0
}

// issueThroughFaults is issueOne for a cluster whose processes die: a start
// or a wait that fails for want of the server is tried again, and a retried
// start can neither make a second run nor a second identity check (the
// update has the case's id, a closed run is not started again).
func (s *stack) issueThroughFaults(ctx context.Context, terminalID string, a applicant, retries *atomic.Int64) error {
	name := workflows.ProcedureInPersonIssuance
	id := workflows.WorkflowID(name, a.caseNumber)
	for {
		start := s.tc.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
			ID: id, TaskQueue: contract.MunicipalTaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			TypedSearchAttributes:    workflows.SearchAttributes(name, a.caseNumber, demo.Chiyoda),
		}, workflows.InPersonIssuance, workflows.InPersonIssuanceInput{CaseNumber: a.caseNumber, MunicipalityCode: demo.Chiyoda,
			TerminalID: terminalID, Clerk: "clerk1", Application: a.app})
		_, err := s.tc.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: start,
			UpdateOptions: client.UpdateWorkflowOptions{UpdateID: "identity-" + a.caseNumber, UpdateName: workflows.ConfirmIdentityUpdate,
				Args:         []any{workflows.ConfirmIdentityInput{Clerk: "clerk1", DocumentType: "individual_number_card", Verified: true}},
				WaitForStage: client.WorkflowUpdateStageAccepted},
		})
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if err == nil || errors.As(err, &started) {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: update-with-start: %w", id, err)
		}
		retries.Add(1)
		time.Sleep(250 * time.Millisecond)
	}
	for {
		var res workflows.InPersonIssuanceResult
		err := s.tc.GetWorkflow(ctx, id, "").Get(ctx, &res)
		if err == nil {
			if res.Status != workflows.StatusCompleted {
				return fmt.Errorf("%s ended %s: %+v", id, res.Status, res.Rejection)
			}
			return nil
		}
		var failed *temporal.WorkflowExecutionError
		if errors.As(err, &failed) || ctx.Err() != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		retries.Add(1)
		time.Sleep(250 * time.Millisecond)
	}
}
