// Package cluster tests the Temporal cluster of cluster/ (docs/CLUSTER.md): that the frontend
// takes mTLS only and that its authorizer lets each identity do only its own work. It runs in the
// cluster stage of scripts/test.sh (and scripts/cluster.sh --check), which set MADOGUCHI_CLUSTER=1
// and the certificates' folder; elsewhere it has nothing to test and exits before running.
package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/config"
	"github.com/madoguchi/madoguchi/internal/temporalclient"
)

var cfg config.Config

func TestMain(m *testing.M) {
	if os.Getenv("MADOGUCHI_CLUSTER") != "1" || os.Getenv("MADOGUCHI_TEMPORAL_TLS_DIR") == "" {
		// Not the cluster stage: the dev server has no authorizer to test. Exit without running, so
		// the main run neither fails nor counts skips here.
		fmt.Println("cluster: not on the Temporal cluster (MADOGUCHI_CLUSTER=1); its stage of scripts/test.sh runs these tests")
		os.Exit(0)
	}
	cfg = config.FromEnv()
	os.Exit(m.Run())
}

// dialAs connects with the certificate of one identity of the local CA ("terminal:T0001").
func dialAs(t *testing.T, identity string) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: cfg.TemporalAddr, Namespace: cfg.TemporalNamespace,
		ConnectionOptions: client.ConnectionOptions{TLS: tlsAs(t, identity)}})
	if err != nil {
		t.Fatalf("dial as %s: %v", identity, err)
	}
	t.Cleanup(c.Close)
	return c
}

func tlsAs(t *testing.T, identity string) *tls.Config {
	t.Helper()
	dir := os.Getenv("MADOGUCHI_TEMPORAL_TLS_DIR")
	stem := filepath.Join(dir, identityFile(identity))
	c := cfg
	c.TemporalTLS.CertFile, c.TemporalTLS.KeyFile = stem+".pem", stem+".key"
	conf, err := temporalclient.TLSConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	return conf
}

func identityFile(identity string) string {
	b := []byte(identity)
	for i := range b {
		if b[i] == ':' {
			b[i] = '-'
		}
	}
	return string(b)
}

// refused fails the test unless err is the authorizer's PermissionDenied.
func refused(t *testing.T, what string, err error) {
	t.Helper()
	var pd *serviceerror.PermissionDenied
	if !errors.As(err, &pd) {
		t.Errorf("%s: got %v, want PermissionDenied", what, err)
	}
}

func pollActivity(ctx context.Context, c client.Client, queue string) (*workflowservice.PollActivityTaskQueueResponse, error) {
	return c.WorkflowService().PollActivityTaskQueue(ctx, &workflowservice.PollActivityTaskQueueRequest{
		Namespace: cfg.TemporalNamespace, Identity: "cluster-test",
		TaskQueue: &taskqueuepb.TaskQueue{Name: queue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
	})
}

const probeQueue = "cluster-test-probe"

// probe runs one activity on terminal T0001's queue: the task the terminal must be able to take.
func probe(ctx workflow.Context) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: contract.TerminalTaskQueue("T0001"), StartToCloseTimeout: time.Minute,
	})
	var out string
	err := workflow.ExecuteActivity(ctx, "ClusterProbe").Get(ctx, &out)
	return out, err
}

// TestTerminalCertificateDoesOnlyItsOwnWork: with counter terminal T0001's certificate, polling
// another terminal's queue or the CA's, starting a workflow and reading a history are each refused;
// its own queue's task is handed to it and its answer completes the workflow.
func TestTerminalCertificateDoesOnlyItsOwnWork(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := dialAs(t, "admin")
	w := sdkworker.New(admin, probeQueue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(probe, workflow.RegisterOptions{Name: "ClusterProbe"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	id := fmt.Sprintf("cluster-test/probe-%d", time.Now().UnixNano())
	run, err := admin.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: probeQueue}, "ClusterProbe")
	if err != nil {
		t.Fatal(err)
	}

	term := dialAs(t, "terminal:T0001")
	_, err = pollActivity(ctx, term, contract.TerminalTaskQueue("T0002"))
	refused(t, "poll terminal T0002's queue", err)
	_, err = pollActivity(ctx, term, contract.CATaskQueue)
	refused(t, "poll the CA queue", err)
	_, err = pollActivity(ctx, term, contract.MunicipalTaskQueue)
	refused(t, "poll the municipal queue", err)
	_, err = term.WorkflowService().PollWorkflowTaskQueue(ctx, &workflowservice.PollWorkflowTaskQueueRequest{
		Namespace: cfg.TemporalNamespace, TaskQueue: &taskqueuepb.TaskQueue{Name: contract.TerminalTaskQueue("T0001")}})
	refused(t, "poll workflow tasks", err)
	_, err = term.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id + "-by-terminal", TaskQueue: probeQueue}, "ClusterProbe")
	refused(t, "start a workflow", err)
	_, err = term.WorkflowService().GetWorkflowExecutionHistory(ctx, &workflowservice.GetWorkflowExecutionHistoryRequest{
		Namespace: cfg.TemporalNamespace, Execution: &commonpb.WorkflowExecution{WorkflowId: id}})
	refused(t, "read a history", err)
	_, err = term.WorkflowService().ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: cfg.TemporalNamespace})
	refused(t, "list workflows", err)
	_, err = term.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "temporal-system"})
	refused(t, "a namespace the back office does not serve", err)

	// Its own queue: the probe's activity task comes to it, and its answer completes the workflow.
	var task *workflowservice.PollActivityTaskQueueResponse
	for len(task.GetTaskToken()) == 0 {
		if task, err = pollActivity(ctx, term, contract.TerminalTaskQueue("T0001")); err != nil {
			t.Fatalf("poll its own queue: %v", err)
		}
	}
	payloads, err := converter.GetDefaultDataConverter().ToPayloads("done by T0001")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := term.WorkflowService().RespondActivityTaskCompleted(ctx, &workflowservice.RespondActivityTaskCompletedRequest{
		Namespace: cfg.TemporalNamespace, TaskToken: task.GetTaskToken(), Result: payloads, Identity: "cluster-test"}); err != nil {
		t.Fatalf("complete its own task: %v", err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil || out != "done by T0001" {
		t.Fatalf("probe workflow: %q, %v", out, err)
	}
}

// TestEachIdentityPollsOnlyItsQueues: the workers and the gateway, each with its own certificate,
// are refused the queues that are not theirs; a client without a certificate is not served at all.
func TestEachIdentityPollsOnlyItsQueues(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct{ identity, queue string }{
		{"caworker", contract.TerminalTaskQueue("T0001")},
		{"caworker", contract.MunicipalTaskQueue},
		{"worker:municipal", contract.CATaskQueue},
		{"worker:municipal", contract.TerminalTaskQueue("T0001")},
		{"gateway", contract.TerminalTaskQueue("T0001")},
		{"gateway", contract.MunicipalTaskQueue},
		{"terminal:Y0001", contract.TerminalTaskQueue("T0001")},
	} {
		_, err := pollActivity(ctx, dialAs(t, tc.identity), tc.queue)
		refused(t, tc.identity+" polls "+tc.queue, err)
	}
	_, err := dialAs(t, "worker:municipal").WorkflowService().GetWorkflowExecutionHistory(ctx, &workflowservice.GetWorkflowExecutionHistoryRequest{
		Namespace: cfg.TemporalNamespace, Execution: &commonpb.WorkflowExecution{WorkflowId: "x"}})
	refused(t, "the municipal worker reads a history", err)

	// No client certificate: the frontend's TLS takes none but ours.
	noCert := tlsAs(t, "admin").Clone()
	noCert.Certificates = nil
	if c, err := client.Dial(client.Options{HostPort: cfg.TemporalAddr, Namespace: cfg.TemporalNamespace,
		ConnectionOptions: client.ConnectionOptions{TLS: noCert}}); err == nil {
		c.Close()
		t.Error("a client without a certificate was served")
	}
}
