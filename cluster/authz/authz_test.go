package authz

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"os"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/authorization"
)

func TestParseSubject(t *testing.T) {
	for _, tc := range []struct {
		cn   string
		want Identity
		err  bool
	}{
		{cn: "terminal:T0001", want: Identity{Role: RoleTerminal, Terminal: "T0001"}},
		{cn: "caworker", want: Identity{Role: RoleCAWorker}},
		{cn: "worker:municipal", want: Identity{Role: RoleMunicipal}},
		{cn: "gateway", want: Identity{Role: RoleGateway}},
		{cn: "admin", want: Identity{Role: RoleAdmin}},
		{cn: "temporal-system", want: Identity{Role: RoleSystem}},
		{cn: "terminal:", err: true},
		{cn: "terminal:T1.x", err: true},
		{cn: "terminal:T1/../ca", err: true},
		{cn: "Gateway", err: true},
		{cn: "", err: true},
	} {
		got, err := ParseSubject(tc.cn)
		if tc.err {
			if !errors.Is(err, ErrUnknownSubject) {
				t.Errorf("%q: err %v, want ErrUnknownSubject", tc.cn, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v, %v; want %+v", tc.cn, got, err, tc.want)
		}
	}
}

func TestDecide(t *testing.T) {
	served := map[string]bool{"default": true}
	t1 := Identity{Role: RoleTerminal, Terminal: "T0001"}
	ca := Identity{Role: RoleCAWorker}
	mu := Identity{Role: RoleMunicipal}
	gw := Identity{Role: RoleGateway}
	ws := func(m string, q Queue) Call {
		return Call{Service: workflowService, Method: m, Namespace: "default", Queue: q}
	}
	own := Queue{Name: "terminal.T0001"}
	sticky := func(normal string) Queue { return Queue{Name: "host:1234-abcd", Sticky: true, Normal: normal} }
	for _, tc := range []struct {
		name string
		id   Identity
		call Call
		want bool
	}{
		// A counter terminal: its own activity queue, and what its SDK needs besides.
		{"terminal polls its own queue", t1, ws("PollActivityTaskQueue", own), true},
		{"terminal polls another terminal", t1, ws("PollActivityTaskQueue", Queue{Name: "terminal.T0002"}), false},
		{"terminal polls a prefix-alike", t1, ws("PollActivityTaskQueue", Queue{Name: "terminal.T00011"}), false},
		{"terminal polls the CA queue", t1, ws("PollActivityTaskQueue", Queue{Name: CAQueue}), false},
		{"terminal polls the municipal queue", t1, ws("PollActivityTaskQueue", Queue{Name: MunicipalQueue}), false},
		{"terminal polls workflow tasks", t1, ws("PollWorkflowTaskQueue", own), false},
		{"terminal polls a sticky queue of its own", t1, ws("PollActivityTaskQueue", Queue{Name: "terminal.T0001", Sticky: true}), false},
		{"terminal completes its task", t1, ws("RespondActivityTaskCompleted", Queue{}), true},
		{"terminal heartbeats", t1, ws("RecordActivityTaskHeartbeat", Queue{}), true},
		{"terminal completes by id", t1, ws("RespondActivityTaskCompletedById", Queue{}), false},
		{"terminal describes its namespace", t1, ws("DescribeNamespace", Queue{}), true},
		{"terminal system info", t1, Call{Service: workflowService, Method: "GetSystemInfo"}, true},
		{"terminal starts a workflow", t1, ws("StartWorkflowExecution", Queue{}), false},
		{"terminal signal-with-starts", t1, ws("SignalWithStartWorkflowExecution", Queue{}), false},
		{"terminal reads a history", t1, ws("GetWorkflowExecutionHistory", Queue{}), false},
		{"terminal queries", t1, ws("QueryWorkflow", Queue{}), false},
		{"terminal lists", t1, ws("ListWorkflowExecutions", Queue{}), false},
		{"terminal in another namespace", t1, Call{Service: workflowService, Method: "PollActivityTaskQueue", Namespace: "other", Queue: own}, false},
		{"terminal lists namespaces", t1, Call{Service: workflowService, Method: "ListNamespaces"}, false},
		{"terminal operator service", t1, Call{Service: "temporal.api.operatorservice.v1.OperatorService", Method: "ListSearchAttributes", Namespace: "default"}, false},
		{"terminal health", t1, Call{Service: "grpc.health.v1.Health", Method: "Check"}, true},

		// The CA worker: the CA queue, workflows and activities, and its sticky queue.
		{"ca polls CA activities", ca, ws("PollActivityTaskQueue", Queue{Name: CAQueue}), true},
		{"ca polls CA workflows", ca, ws("PollWorkflowTaskQueue", Queue{Name: CAQueue}), true},
		{"ca polls its sticky queue", ca, ws("PollWorkflowTaskQueue", sticky(CAQueue)), true},
		{"ca polls a sticky queue of municipal", ca, ws("PollWorkflowTaskQueue", sticky(MunicipalQueue)), false},
		{"ca polls municipal", ca, ws("PollActivityTaskQueue", Queue{Name: MunicipalQueue}), false},
		{"ca polls a terminal", ca, ws("PollActivityTaskQueue", own), false},
		{"ca completes workflow tasks", ca, ws("RespondWorkflowTaskCompleted", Queue{}), true},
		{"ca answers queries", ca, ws("RespondQueryTaskCompleted", Queue{}), true},
		{"ca starts a workflow", ca, ws("StartWorkflowExecution", Queue{}), false},
		{"ca reads a history", ca, ws("GetWorkflowExecutionHistory", Queue{}), false},

		// The municipal worker: its own queue, and the relay's signal-with-start.
		{"municipal polls its workflows", mu, ws("PollWorkflowTaskQueue", Queue{Name: MunicipalQueue}), true},
		{"municipal polls its sticky queue", mu, ws("PollWorkflowTaskQueue", sticky(MunicipalQueue)), true},
		{"municipal polls its activities", mu, ws("PollActivityTaskQueue", Queue{Name: MunicipalQueue}), true},
		{"municipal polls CA", mu, ws("PollActivityTaskQueue", Queue{Name: CAQueue}), false},
		{"municipal polls CA workflows", mu, ws("PollWorkflowTaskQueue", Queue{Name: CAQueue}), false},
		{"municipal relays", mu, ws("SignalWithStartWorkflowExecution", Queue{}), true},
		{"municipal starts", mu, ws("StartWorkflowExecution", Queue{}), false},
		{"municipal reads a history", mu, ws("GetWorkflowExecutionHistory", Queue{}), false},

		// The gateway: starts, updates, queries and reads, in its namespaces; takes no task.
		{"gateway starts", gw, ws("StartWorkflowExecution", Queue{}), true},
		{"gateway updates", gw, ws("UpdateWorkflowExecution", Queue{}), true},
		{"gateway queries", gw, ws("QueryWorkflow", Queue{}), true},
		{"gateway reads a history", gw, ws("GetWorkflowExecutionHistory", Queue{}), true},
		{"gateway makes a schedule", gw, ws("CreateSchedule", Queue{}), true},
		{"gateway describes a terminal queue", gw, ws("DescribeTaskQueue", own), true},
		{"gateway polls a terminal", gw, ws("PollActivityTaskQueue", own), false},
		{"gateway polls workflows", gw, ws("PollWorkflowTaskQueue", Queue{Name: MunicipalQueue}), false},
		{"gateway completes an activity", gw, ws("RespondActivityTaskCompleted", Queue{}), false},
		{"gateway completes by id", gw, ws("RespondActivityTaskCompletedById", Queue{}), false},
		{"gateway registers a namespace", gw, Call{Service: workflowService, Method: "RegisterNamespace", Namespace: "x"}, false},
		{"gateway in another namespace", gw, Call{Service: workflowService, Method: "StartWorkflowExecution", Namespace: "other"}, false},
		{"gateway operator service", gw, Call{Service: "temporal.api.operatorservice.v1.OperatorService", Method: "AddSearchAttributes", Namespace: "default"}, false},
		{"gateway admin service", gw, Call{Service: "temporal.server.api.adminservice.v1.AdminService", Method: "DescribeCluster"}, false},

		// The operator and the server itself.
		{"admin adds search attributes", Identity{Role: RoleAdmin}, Call{Service: "temporal.api.operatorservice.v1.OperatorService", Method: "AddSearchAttributes", Namespace: "default"}, true},
		{"system worker starts a scheduled run", Identity{Role: RoleSystem}, ws("StartWorkflowExecution", Queue{}), true},
		{"nobody", Identity{}, ws("GetSystemInfo", Queue{}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.id, served, tc.call); got != tc.want {
				t.Fatalf("Decide(%+v, %+v) = %v, want %v", tc.id, tc.call, got, tc.want)
			}
		})
	}
}

// TestAuthorizerReadsTheRequest checks the wiring the server uses: claims from a certificate
// subject, the API name split, and the task queue read from the poll request.
func TestAuthorizerReadsTheRequest(t *testing.T) {
	claims, err := ClaimMapper{}.GetClaims(&authorization.AuthInfo{TLSSubject: &pkix.Name{CommonName: "terminal:T0001"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (ClaimMapper{}).GetClaims(&authorization.AuthInfo{}); err == nil {
		t.Fatal("claims without a certificate")
	}
	var refused []string
	a := Authorizer{Served: map[string]bool{"default": true}, Denied: func(s string, c Call) { refused = append(refused, s+" "+c.Queue.Name) }}
	poll := func(queue string, kind enumspb.TaskQueueKind) authorization.Decision {
		r, err := a.Authorize(context.Background(), claims, &authorization.CallTarget{
			APIName:   "/temporal.api.workflowservice.v1.WorkflowService/PollActivityTaskQueue",
			Namespace: "default",
			Request:   &workflowservice.PollActivityTaskQueueRequest{Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: queue, Kind: kind}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return r.Decision
	}
	if d := poll("terminal.T0001", enumspb.TASK_QUEUE_KIND_NORMAL); d != authorization.DecisionAllow {
		t.Fatalf("own queue: %v", d)
	}
	if d := poll("terminal.T0002", enumspb.TASK_QUEUE_KIND_NORMAL); d != authorization.DecisionDeny {
		t.Fatalf("other terminal's queue: %v", d)
	}
	if d := poll("terminal.T0001", enumspb.TASK_QUEUE_KIND_STICKY); d != authorization.DecisionDeny {
		t.Fatalf("sticky poll: %v", d)
	}
	if len(refused) != 2 || refused[0] != "terminal:T0001 terminal.T0002" {
		t.Fatalf("refusals reported %q", refused)
	}
	if r, _ := a.Authorize(context.Background(), nil, &authorization.CallTarget{APIName: "/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo"}); r.Decision != authorization.DecisionDeny {
		t.Fatal("no claims allowed")
	}
}

// TestQueuesMatchContract keeps the queue names here equal to contract/types.go, which this module
// does not import (it must not pull the server's dependencies into the root module or back).
func TestQueuesMatchContract(t *testing.T) {
	b, err := os.ReadFile("../../contract/types.go")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	for _, want := range []string{
		`MunicipalTaskQueue = "` + MunicipalQueue + `"`,
		`CATaskQueue        = "` + CAQueue + `"`,
		`return "` + TerminalQueuePrefix + `" + terminalID`,
	} {
		if !strings.Contains(src, want) {
			t.Errorf("contract/types.go has no %s", want)
		}
	}
}
