package municipal

import (
	"github.com/madoguchi/madoguchi/contract"

	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/madoguchi/madoguchi/internal/sealing"
	"github.com/madoguchi/madoguchi/internal/searchattr"
	"github.com/madoguchi/madoguchi/internal/storage"
)

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

// SealingKey returns the address municipality's current public key.
func (r *Relay) SealingKey(ctx context.Context, in contract.SealingKeyInput) (contract.SealingKeyResult, error) {
	k, err := r.Store.CurrentSealingKey(ctx, in.Municipality)
	if errors.Is(err, storage.ErrNotFound) {
		return contract.SealingKeyResult{}, contract.Reject("no_sealing_key", "住所地市区町村の暗号鍵が登録されていません / The address municipality has no sealing key registered.")
	}
	if err != nil {
		return contract.SealingKeyResult{}, err
	}
	return contract.SealingKeyResult{Key: k}, nil
}

// ForwardApplication opens the address municipality's case and hands it the
// application (signal-with-start). Both are idempotent: the case number and
// workflow id derive from the relay case, and the procedure keeps the first
// application it receives.
func (r *Relay) ForwardApplication(ctx context.Context, in contract.ForwardApplicationInput) (contract.ForwardApplicationResult, error) {
	if err := r.Store.InsertCase(ctx, storage.Case{CaseNumber: in.AddressCase, MunicipalityCode: in.AddressMunicipality,
		Procedure: in.Procedure, WorkflowID: in.WorkflowID, OpenedBy: in.OpenedBy}); err != nil {
		return contract.ForwardApplicationResult{}, err
	}
	_, err := r.Temporal.SignalWithStartWorkflow(ctx, in.WorkflowID, in.SignalName, in.Application, client.StartWorkflowOptions{
		ID: in.WorkflowID, TaskQueue: contract.MunicipalTaskQueue,
		TypedSearchAttributes: searchattr.Start(in.Procedure, in.AddressCase, in.AddressMunicipality, "forwarded"),
	}, in.WorkflowType, in.StartInput)
	if err != nil {
		return contract.ForwardApplicationResult{}, fmt.Errorf("forward to %s: %w", in.AddressMunicipality, err)
	}
	return contract.ForwardApplicationResult{AddressCase: in.AddressCase, ForwardedAt: time.Now()}, nil
}
