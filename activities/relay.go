package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/madoguchi/madoguchi/internal/sealing"
	"github.com/madoguchi/madoguchi/internal/searchattr"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// RelayApplication is what a relay municipality (経由市区町村) forwards to the
// address municipality: the application and the sealed PIN notice.
type RelayApplication struct {
	RelayCase         string         `json:"relayCase"`
	RelayMunicipality string         `json:"relayMunicipality"`
	RelayClerk        string         `json:"relayClerk"`
	Application       Application    `json:"application"`
	Notice            sealing.Notice `json:"notice"`
	// HandOverAt is where the applicant receives the card: "relay" or
	// "address" (the application chose).
	HandOverAt string `json:"handOverAt"`
}

// RelayStore is what the relay activities need of the municipal database.
type RelayStore interface {
	InsertCase(ctx context.Context, c storage.Case) error
	CurrentSealingKey(ctx context.Context, municipality string) (sealing.PublicKey, error)
}

// SignalStarter starts a workflow with a signal, or signals it if running.
type SignalStarter interface {
	SignalWithStartWorkflow(ctx context.Context, workflowID string, signalName string, signalArg any,
		options client.StartWorkflowOptions, workflow any, workflowArgs ...any) (client.WorkflowRun, error)
}

// Relay holds the activities that carry an application from a relay
// municipality to the address municipality.
type Relay struct {
	Store    RelayStore
	Temporal SignalStarter
}

// SealingKeyInput asks for a municipality's current sealing public key.
type SealingKeyInput struct {
	Municipality string `json:"municipality"`
}

// SealingKeyResult is the key to seal PIN notices to.
type SealingKeyResult struct {
	Key sealing.PublicKey `json:"key"`
}

// SealingKey returns the address municipality's current public key.
func (r *Relay) SealingKey(ctx context.Context, in SealingKeyInput) (SealingKeyResult, error) {
	k, err := r.Store.CurrentSealingKey(ctx, in.Municipality)
	if errors.Is(err, storage.ErrNotFound) {
		return SealingKeyResult{}, Reject("no_sealing_key", "住所地市区町村の暗号鍵が登録されていません / The address municipality has no sealing key registered.")
	}
	if err != nil {
		return SealingKeyResult{}, err
	}
	return SealingKeyResult{Key: k}, nil
}

// ForwardApplicationInput forwards a relay application.
type ForwardApplicationInput struct {
	AddressMunicipality string           `json:"addressMunicipality"`
	AddressCase         string           `json:"addressCase"`
	WorkflowID          string           `json:"workflowId"`
	WorkflowType        string           `json:"workflowType"`
	Procedure           string           `json:"procedure"`
	SignalName          string           `json:"signalName"`
	OpenedBy            int64            `json:"openedBy"`
	Application         RelayApplication `json:"application"`
	// StartInput is the address procedure's start input.
	StartInput any `json:"startInput"`
}

// ForwardApplicationResult names the address municipality's case.
type ForwardApplicationResult struct {
	AddressCase string    `json:"addressCase"`
	ForwardedAt time.Time `json:"forwardedAt"`
}

// ForwardApplication opens the address municipality's case and hands it the
// application (signal-with-start). Both are idempotent: the case number and
// workflow id derive from the relay case, and the procedure keeps the first
// application it receives.
func (r *Relay) ForwardApplication(ctx context.Context, in ForwardApplicationInput) (ForwardApplicationResult, error) {
	if err := r.Store.InsertCase(ctx, storage.Case{CaseNumber: in.AddressCase, MunicipalityCode: in.AddressMunicipality,
		Procedure: in.Procedure, WorkflowID: in.WorkflowID, OpenedBy: in.OpenedBy}); err != nil {
		return ForwardApplicationResult{}, err
	}
	_, err := r.Temporal.SignalWithStartWorkflow(ctx, in.WorkflowID, in.SignalName, in.Application, client.StartWorkflowOptions{
		ID: in.WorkflowID, TaskQueue: MunicipalTaskQueue,
		TypedSearchAttributes: searchattr.Start(in.Procedure, in.AddressCase, in.AddressMunicipality, "forwarded"),
	}, in.WorkflowType, in.StartInput)
	if err != nil {
		return ForwardApplicationResult{}, fmt.Errorf("forward to %s: %w", in.AddressMunicipality, err)
	}
	return ForwardApplicationResult{AddressCase: in.AddressCase, ForwardedAt: time.Now()}, nil
}
