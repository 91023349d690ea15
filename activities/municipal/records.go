package municipal

import (
	"context"
	"errors"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// ReadRequester reads the person a disclosure or correction request is
// about from the register, for the Organization's letters: it writes to
// them directly (法第58条). A former resident may ask too (the request
// outlives the service), so the status is not checked; the municipality is.
func (m *Municipal) ReadRequester(ctx context.Context, in contract.ReadRequesterInput) (contract.ReadRequesterResult, error) {
	r, err := m.Store.Resident(ctx, in.ResidentCode)
	if errors.Is(err, storage.ErrNotFound) {
		return contract.ReadRequesterResult{}, contract.Reject("not_in_register",
			"住民基本台帳に該当する住民票コードがありません / No resident with this resident code is in the register.")
	}
	if err != nil {
		return contract.ReadRequesterResult{}, err
	}
	if in.MunicipalityCode != "" && r.MunicipalityCode != in.MunicipalityCode {
		return contract.ReadRequesterResult{}, contract.Reject("other_municipality_resident",
			"他の団体の住民です / This person is another municipality's resident.")
	}
	return contract.ReadRequesterResult{Requester: contract.Requester{ResidentCode: r.ResidentCode, Name: r.Name, Address: r.Address}}, nil
}

// OpenCase records the case a procedure opens at another office before
// starting its workflow; repeating it is harmless.
func (r *Relay) OpenCase(ctx context.Context, in contract.OpenCaseInput) (contract.OpenCaseResult, error) {
	return contract.OpenCaseResult{}, r.Store.InsertCase(ctx, storage.Case{CaseNumber: in.CaseNumber, MunicipalityCode: in.Office,
		Procedure: in.Procedure, WorkflowID: in.WorkflowID, OpenedBy: in.OpenedBy})
}
