package workflows

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/activities/org"
	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ca/hsmtest"
	"github.com/madoguchi/madoguchi/internal/ca/profile"
	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/crl"
	"github.com/madoguchi/madoguchi/internal/reasons"
	"github.com/madoguchi/madoguchi/internal/temporalclient"
)

const crlTestRunID = "publish-revocation-lists/daily-2026-04-01T15:00:00Z"

func newCRLPublishEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(PublishRevocationLists, workflow.RegisterOptions{Name: PublishRevocationListsWorkflow})
	env.RegisterActivity(&org.CRL{})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: crlTestRunID, TaskQueue: contract.CATaskQueue})
	return env
}

func crlIssued(in contract.IssueRevocationListsInput) contract.IssueRevocationListsResult {
	return contract.IssueRevocationListsResult{Kind: in.Kind, Partitions: 3, Issued: 3, FullNumber: 7, Entries: 11, Day: "2026-04-02"}
}

// Both CAs are published with the workflow id as run id, then the files
// past retention are disposed of, in that order.
func TestPublishRevocationLists(t *testing.T) {
	env := newCRLPublishEnv(t)
	var kinds []string
	var disposedAfter int
	env.OnActivity(contract.IssueRevocationLists.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.IssueRevocationListsInput) (contract.IssueRevocationListsResult, error) {
			if in.RunID != crlTestRunID {
				t.Errorf("run id %q, want the workflow id", in.RunID)
			}
			kinds = append(kinds, in.Kind)
			return crlIssued(in), nil
		}).Times(2)
	env.OnActivity(contract.DisposeRevocationFiles.Name, mock.Anything).Return(
		func(context.Context) (contract.DisposeRevocationFilesResult, error) {
			disposedAfter = len(kinds)
			return contract.DisposeRevocationFilesResult{DailyFiles: 2, CRLs: 5, KeptFrom: "2016-04-02"}, nil
		}).Once()
	env.ExecuteWorkflow(PublishRevocationListsWorkflow, PublishRevocationListsInput{Trigger: "schedule"})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res PublishRevocationListsResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.ElementsMatch(t, []string{"sign", "auth"}, kinds)
	require.Equal(t, 2, disposedAfter, "disposal ran before both publications finished")
	require.Equal(t, crlTestRunID, res.RunID)
	require.Len(t, res.Lists, 2)
	require.Equal(t, int64(2), res.Disposed.DailyFiles)
	env.AssertExpectations(t)
}

// A database or HSM failure is retried; the run completes once it clears.
func TestPublishRevocationListsRetries(t *testing.T) {
	env := newCRLPublishEnv(t)
	failures := 0
	env.OnActivity(contract.IssueRevocationLists.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.IssueRevocationListsInput) (contract.IssueRevocationListsResult, error) {
			if in.Kind == "sign" && failures < 2 {
				failures++
				return contract.IssueRevocationListsResult{}, errors.New("HSM session lost")
			}
			return crlIssued(in), nil
		})
	env.OnActivity(contract.DisposeRevocationFiles.Name, mock.Anything).Return(contract.DisposeRevocationFilesResult{}, nil).Once()
	env.ExecuteWorkflow(PublishRevocationListsWorkflow, PublishRevocationListsInput{})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 2, failures)
	env.AssertExpectations(t)
}

// Invalid input is not retried, and nothing is disposed of after a failed
// publication.
func TestPublishRevocationListsInvalid(t *testing.T) {
	env := newCRLPublishEnv(t)
	calls := 0
	env.OnActivity(contract.IssueRevocationLists.Name, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.IssueRevocationListsInput) (contract.IssueRevocationListsResult, error) {
			calls++
			if in.Kind == "auth" {
				return contract.IssueRevocationListsResult{}, temporal.NewNonRetryableApplicationError("bad", contract.ErrTypeInvalid, nil)
			}
			return crlIssued(in), nil
		})
	env.OnActivity(contract.DisposeRevocationFiles.Name, mock.Anything).Return(contract.DisposeRevocationFilesResult{}, nil).Maybe()
	env.ExecuteWorkflow(PublishRevocationListsWorkflow, PublishRevocationListsInput{})
	require.Error(t, env.GetWorkflowError())
	require.Equal(t, 2, calls, "a non-retryable error was retried")
	env.AssertActivityNumberOfCalls(t, "DisposeRevocationFiles", 0)
}

func TestValidRequestID(t *testing.T) {
	for _, c := range []struct {
		id string
		ok bool
	}{
		{"gw-20260401-0001", true}, {"a.b_c:d", true}, {"", false}, {"a/b", false}, {"a b", false},
		{"山田", false}, {string(make([]byte, 101)), false},
	} {
		if validRequestID(c.id) != c.ok {
			t.Errorf("validRequestID(%q) = %v", c.id, !c.ok)
		}
	}
}

// realTemporal returns a client of the project's Temporal dev server; the
// test script sets MADOGUCHI_INTEGRATION=1 when it runs.
func crlTemporal(t *testing.T) client.Client {
	t.Helper()
	if os.Getenv("MADOGUCHI_INTEGRATION") != "1" {
		t.Skip("needs the real Temporal dev server: MADOGUCHI_INTEGRATION=1 (the project's test script sets it)")
	}
	c, err := temporalclient.Dial(config.FromEnv())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func crlRandHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// The Schedule is created once and brought back to its definition by later
// calls (setup runs at every start). A throw-away id keeps the real one
// untouched.
func TestEnsureScheduleIdempotent(t *testing.T) {
	c := crlTemporal(t)
	ctx := context.Background()
	id := "crl-test-" + crlRandHex(4)
	require.NoError(t, ensureSchedule(ctx, c, id, "crl-test-queue"))
	h := c.ScheduleClient().GetHandle(ctx, id)
	t.Cleanup(func() { _ = h.Delete(context.Background()) })
	// Someone changes it by hand; setup restores it.
	require.NoError(t, h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		s.Spec = &client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}}}
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}}))
	require.NoError(t, ensureSchedule(ctx, c, id, "crl-test-queue"))
	require.NoError(t, ensureSchedule(ctx, c, id, "crl-test-queue"))
	d, err := h.Describe(ctx)
	require.NoError(t, err)
	require.Len(t, d.Schedule.Spec.Intervals, 1)
	require.Equal(t, 24*time.Hour, d.Schedule.Spec.Intervals[0].Every)
	require.Equal(t, 15*time.Hour, d.Schedule.Spec.Intervals[0].Offset)
	act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.True(t, ok)
	require.Equal(t, PublishRevocationListsWorkflow, act.Workflow)
	require.Equal(t, "crl-test-queue", act.TaskQueue)
	require.Equal(t, WorkflowID(ProcedurePublishRevocationLists, "daily"), act.ID)
	// The next run is at 00:00 JST.
	require.NotEmpty(t, d.Info.NextActionTimes)
	next := d.Info.NextActionTimes[0].In(time.FixedZone("JST", 9*3600))
	require.Equal(t, [3]int{0, 0, 0}, [3]int{next.Hour(), next.Minute(), next.Second()})
	list, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{})
	require.NoError(t, err)
	n := 0
	for list.HasNext() {
		e, err := list.Next()
		require.NoError(t, err)
		if e.ID == id {
			n++
		}
	}
	require.LessOrEqual(t, n, 1, "schedule listed twice")
}

// End to end on the real parts: Temporal, the worker registration the CA
// worker uses, Postgres and SoftHSM. An on-demand run publishes CRLs that
// list a revoked certificate; asking again with the same request id returns
// the same run and issues nothing new.
func TestOnDemandPublicationOnRealStack(t *testing.T) {
	c := crlTemporal(t)
	dsn := os.Getenv("MADOGUCHI_JLIS_DSN")
	if dsn == "" || !hsmtest.Enabled() {
		t.Skip("needs MADOGUCHI_JLIS_DSN and SoftHSM2 (the project's test script sets them)")
	}
	ctx := context.Background()
	pool := crlSchemaPool(t, dsn)
	h, _ := hsmtest.Open(t)
	require.NoError(t, ca.Migrate(ctx, pool))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	authority, err := ca.Bootstrap(ctx, pool, h, "", ca.Options{RepositoryURL: "http://repo.test:8090", Logger: quiet})
	require.NoError(t, err)
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	spki, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	cert, err := authority.Issue(ctx, ca.IssueRequest{RequestID: "wf-test/auth", Kind: ca.KindAuth, MunicipalityCode: "131016",
		ResidentCode: "12345678901", PublicKeyDER: spki, NotAfter: time.Now().AddDate(1, 0, 0)})
	require.NoError(t, err)
	_, err = authority.Revoke(ctx, ca.RevokeRequest{RequestID: "wf-test/revoke", Serial: cert.Serial, Reason: reasons.KeyCompromise})
	require.NoError(t, err)

	queue := "crl-test-" + crlRandHex(4)
	w := sdkworker.New(c, queue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(PublishRevocationLists, workflow.RegisterOptions{Name: PublishRevocationListsWorkflow})
	w.RegisterActivity(&org.CRL{CA: authority, DB: pool})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	reqID := "test-" + crlRandHex(4)
	run, err := startPublish(ctx, c, reqID, queue)
	require.NoError(t, err)
	var res PublishRevocationListsResult
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, run.GetID(), res.RunID)
	require.Len(t, res.Lists, 2)

	// The certificate's partition is a shard of its serial, not its
	// municipality.
	issued, err := x509.ParseCertificate(cert.CertificateDER)
	require.NoError(t, err)
	der, _, _, err := crl.Latest(ctx, pool, ca.KindAuth, profile.CRLPartition(ca.KindAuth, issued.SerialNumber, ""))
	require.NoError(t, err)
	rl, err := x509.ParseRevocationList(der)
	require.NoError(t, err)
	caCert, _ := authority.IssuerCertificate(ca.KindAuth)
	require.NoError(t, rl.CheckSignatureFrom(caCert))
	require.Len(t, rl.RevokedCertificateEntries, 1)
	require.Equal(t, cert.Serial, ca.FormatSerial(rl.RevokedCertificateEntries[0].SerialNumber))
	require.Equal(t, int64(1), rl.Number.Int64())

	again, err := startPublish(ctx, c, reqID, queue)
	require.NoError(t, err)
	require.Equal(t, run.GetRunID(), again.GetRunID(), "the same request id started a second run")
	var res2 PublishRevocationListsResult
	require.NoError(t, again.Get(ctx, &res2))
	require.Equal(t, res.Lists, res2.Lists)
	der2, _, _, err := crl.Latest(ctx, pool, ca.KindAuth, "")
	require.NoError(t, err)
	rl2, err := x509.ParseRevocationList(der2)
	require.NoError(t, err)
	require.Equal(t, int64(1), rl2.Number.Int64(), "asking again issued a new CRL")
	_, err = startPublish(ctx, c, "bad/id", queue)
	require.ErrorIs(t, err, ErrInvalidRequestID)
}

// schemaPool gives the test a schema of its own in the jlis database.
func crlSchemaPool(t *testing.T, dsn string) *pgxpool.Pool {
	ctx := context.Background()
	schema := "wf_crl_test_" + crlRandHex(6)
	admin, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	cfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		pool.Close()
		_, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close(context.Background())
	})
	return pool
}
