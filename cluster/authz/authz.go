// Package authz is madoguchi's authority by identity on the Temporal frontend: a ClaimMapper that
// reads who a caller is from its client certificate's common name, and an Authorizer that lets each
// identity do only its own work (docs/CLUSTER.md). The decision itself is Decide, a pure function.
package authz

import (
	"context"
	"errors"
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/server/common/authorization"
)

// Role is what a certificate's holder is to the back office.
type Role int

// The roles, one per kind of process that talks to Temporal.
const (
	RoleUnknown   Role = iota
	RoleTerminal       // a counter terminal's card agent: CN=terminal:<id>
	RoleCAWorker       // the Organization's CA worker: CN=caworker
	RoleMunicipal      // the municipal worker: CN=worker:municipal
	RoleGateway        // the gateway (and setup, which makes its Schedules): CN=gateway
	RoleAdmin          // the operator's CLI (namespace, search attributes): CN=admin
	RoleSystem         // the Temporal server's own system worker: CN=temporal-system
)

// The task queues of contract/types.go; the cluster module does not import the root module, so
// they are repeated here and checked by the table test.
const (
	MunicipalQueue      = "municipal"
	CAQueue             = "jlis-ca"
	TerminalQueuePrefix = "terminal."
)

// Identity is one caller: its role, and for a terminal its id.
type Identity struct {
	Role     Role
	Terminal string
}

// ErrUnknownSubject is returned for a certificate whose common name names no identity.
var ErrUnknownSubject = errors.New("authz: unknown certificate subject")

// ParseSubject maps a certificate's common name to an identity.
func ParseSubject(cn string) (Identity, error) {
	switch cn {
	case "caworker":
		return Identity{Role: RoleCAWorker}, nil
	case "worker:municipal":
		return Identity{Role: RoleMunicipal}, nil
	case "gateway":
		return Identity{Role: RoleGateway}, nil
	case "admin":
		return Identity{Role: RoleAdmin}, nil
	case "temporal-system":
		return Identity{Role: RoleSystem}, nil
	}
	if id, ok := strings.CutPrefix(cn, "terminal:"); ok && validTerminalID(id) {
		return Identity{Role: RoleTerminal, Terminal: id}, nil
	}
	return Identity{}, fmt.Errorf("%w %q", ErrUnknownSubject, cn)
}

// validTerminalID keeps a terminal id to letters and digits, so that no id can spell a queue of
// another shape ("terminal.T1.x").
func validTerminalID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, r := range id {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Queue is the task queue a call names, when it names one.
type Queue struct {
	Name   string
	Sticky bool
	// Normal is a sticky queue's normal queue (the SDK sends it with every sticky poll).
	Normal string
}

// Call is what Decide sees of a request.
type Call struct {
	Service   string // e.g. temporal.api.workflowservice.v1.WorkflowService
	Method    string // e.g. PollActivityTaskQueue
	Namespace string
	Queue     Queue
}

const workflowService = "temporal.api.workflowservice.v1.WorkflowService"

// workerPlumbing is what every worker's SDK calls besides its polls: at dial, at start, at stop,
// and to answer its activity tasks by token. The *ById variants are left out on purpose: they
// name any workflow's activity, not a task this worker was handed.
var workerPlumbing = map[string]bool{
	"GetSystemInfo":                true,
	"DescribeNamespace":            true,
	"ShutdownWorker":               true,
	"RecordWorkerHeartbeat":        true,
	"RespondActivityTaskCompleted": true,
	"RespondActivityTaskFailed":    true,
	"RespondActivityTaskCanceled":  true,
	"RecordActivityTaskHeartbeat":  true,
}

// workflowWorker is what a worker that runs workflows adds: answering workflow tasks and queries.
var workflowWorker = map[string]bool{
	"RespondWorkflowTaskCompleted": true,
	"RespondWorkflowTaskFailed":    true,
	"RespondQueryTaskCompleted":    true,
	"ResetStickyTaskQueue":         true,
}

// notForGateway are the worker-side calls: the gateway starts, signals, updates, queries and reads
// cases, but never takes or answers a task, and does not administer namespaces.
var notForGateway = map[string]bool{
	"PollWorkflowTaskQueue": true, "PollActivityTaskQueue": true, "PollNexusTaskQueue": true,
	"RespondWorkflowTaskCompleted": true, "RespondWorkflowTaskFailed": true, "RespondQueryTaskCompleted": true,
	"RespondActivityTaskCompleted": true, "RespondActivityTaskFailed": true, "RespondActivityTaskCanceled": true,
	"RespondActivityTaskCompletedById": true, "RespondActivityTaskFailedById": true, "RespondActivityTaskCanceledById": true,
	"RecordActivityTaskHeartbeat": true, "RecordActivityTaskHeartbeatById": true,
	"RespondNexusTaskCompleted": true, "RespondNexusTaskFailed": true,
	"RegisterNamespace": true, "UpdateNamespace": true, "DeprecateNamespace": true, "ListNamespaces": true,
	"ResetStickyTaskQueue": true, "ShutdownWorker": true, "RecordWorkerHeartbeat": true,
}

// Decide tells whether id may make call, given the namespaces the back office serves.
func Decide(id Identity, served map[string]bool, call Call) bool {
	switch id.Role {
	case RoleSystem, RoleAdmin:
		return true
	case RoleUnknown:
		return false
	}
	if call.Service == "grpc.health.v1.Health" {
		return true
	}
	if call.Service != workflowService {
		return false // operator and admin services: the admin's only
	}
	if call.Namespace == "" {
		if call.Method != "GetSystemInfo" {
			return false
		}
	} else if !served[call.Namespace] {
		return false
	}
	switch id.Role {
	case RoleGateway:
		return !notForGateway[call.Method]
	case RoleTerminal:
		if call.Method == "PollActivityTaskQueue" {
			return !call.Queue.Sticky && call.Queue.Name == TerminalQueuePrefix+id.Terminal
		}
		return workerPlumbing[call.Method]
	case RoleCAWorker:
		return workflowWorkerMay(CAQueue, call)
	case RoleMunicipal:
		// The relay activity opens the address municipality's case (activities/municipal/relay.go).
		if call.Method == "SignalWithStartWorkflowExecution" {
			return true
		}
		return workflowWorkerMay(MunicipalQueue, call)
	}
	return false
}

// workflowWorkerMay is what a worker of workflows and activities on queue may call.
func workflowWorkerMay(queue string, call Call) bool {
	switch call.Method {
	case "PollActivityTaskQueue":
		return !call.Queue.Sticky && call.Queue.Name == queue
	case "PollWorkflowTaskQueue":
		// A sticky queue is the worker's own cache queue, named by the SDK; it belongs to the normal
		// queue the SDK names with it.
		if call.Queue.Sticky {
			return call.Queue.Normal == queue
		}
		return call.Queue.Name == queue
	}
	return workerPlumbing[call.Method] || workflowWorker[call.Method]
}

// SplitAPIName splits "/pkg.Service/Method" into service and method.
func SplitAPIName(api string) (service, method string) {
	s := strings.TrimPrefix(api, "/")
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+1:]
}

// queueOf reads the task queue of a poll request.
func queueOf(req any) Queue {
	r, ok := req.(interface{ GetTaskQueue() *taskqueuepb.TaskQueue })
	if !ok || r.GetTaskQueue() == nil {
		return Queue{}
	}
	tq := r.GetTaskQueue()
	return Queue{Name: tq.GetName(), Sticky: tq.GetKind() == enumspb.TASK_QUEUE_KIND_STICKY, Normal: tq.GetNormalName()}
}

// ClaimMapper maps a verified client certificate to claims carrying the caller's Identity.
type ClaimMapper struct{}

// GetClaims implements authorization.ClaimMapper. A caller without a certificate, or with one
// naming no identity, gets no claims and so is refused.
func (ClaimMapper) GetClaims(info *authorization.AuthInfo) (*authorization.Claims, error) {
	if info == nil || info.TLSSubject == nil {
		return nil, errors.New("authz: no client certificate")
	}
	id, err := ParseSubject(info.TLSSubject.CommonName)
	if err != nil {
		return nil, err
	}
	c := &authorization.Claims{Subject: info.TLSSubject.CommonName, Extensions: id}
	if id.Role == RoleSystem || id.Role == RoleAdmin {
		c.System = authorization.RoleAdmin
	}
	return c, nil
}

// AuthInfoRequired implements authorization.ClaimMapperWithAuthInfoRequired: every call must
// come with a certificate.
func (ClaimMapper) AuthInfoRequired() bool { return true }

// Authorizer applies Decide to each call on the frontend.
type Authorizer struct {
	// Served are the namespaces the back office serves.
	Served map[string]bool
	// Denied, when set, is told of each refusal (the server logs it).
	Denied func(subject string, call Call)
}

// Authorize implements authorization.Authorizer.
func (a Authorizer) Authorize(_ context.Context, claims *authorization.Claims, target *authorization.CallTarget) (authorization.Result, error) {
	svc, method := SplitAPIName(target.APIName)
	call := Call{Service: svc, Method: method, Namespace: target.Namespace, Queue: queueOf(target.Request)}
	var id Identity
	subject := ""
	if claims != nil {
		id, _ = claims.Extensions.(Identity)
		subject = claims.Subject
	}
	if Decide(id, a.Served, call) {
		return authorization.Result{Decision: authorization.DecisionAllow}, nil
	}
	if a.Denied != nil {
		a.Denied(subject, call)
	}
	return authorization.Result{Decision: authorization.DecisionDeny, Reason: "madoguchi: " + subject + " may not call " + method}, nil
}
