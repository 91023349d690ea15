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

// ReadHolders reads the holders of a chunk of expiring certificates from
// the register (住基ネット, any municipality's), to address the
// Organization's expiry notices (有効期限通知書). Only a resident is
// written to: one who moved abroad, died or is unknown is left out.
func (m *Municipal) ReadHolders(ctx context.Context, in contract.ReadHoldersInput) (contract.ReadHoldersResult, error) {
	var out contract.ReadHoldersResult
	seen := map[string]bool{}
	for _, code := range in.ResidentCodes {
		if seen[code] {
			continue
		}
		seen[code] = true
		r, err := m.Store.Resident(ctx, code)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return contract.ReadHoldersResult{}, err
		}
		if r.Status != "resident" {
			continue
		}
		out.Holders = append(out.Holders, contract.Requester{ResidentCode: r.ResidentCode, Name: r.Name, Address: r.Address})
	}
	return out, nil
}
