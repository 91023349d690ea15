package municipal

import (
	"context"
	"errors"
	"slices"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// FindCertificates reads the municipality's record of the certificates a
// revocation or hold release is about: the resident must be this
// municipality's, each serial named theirs, and at least one certificate
// current. Each refusal is a Rejection the clerk reads out.
func (m *Municipal) FindCertificates(ctx context.Context, in contract.FindCertificatesInput) (contract.FindCertificatesResult, error) {
	rec, err := m.Store.Resident(ctx, in.ResidentCode)
	if errors.Is(err, storage.ErrNotFound) {
		return contract.FindCertificatesResult{}, contract.Reject("not_in_register",
			"住民基本台帳に該当する住民票コードがありません / No resident with this resident code is in the register.")
	}
	if err != nil {
		return contract.FindCertificatesResult{}, err
	}
	if rec.MunicipalityCode != in.MunicipalityCode {
		return contract.FindCertificatesResult{}, contract.Reject("other_municipality_resident",
			"他の団体の住民の電子証明書です / These certificates are of another municipality's resident.")
	}
	if in.OnCard != "" {
		return m.onCard(ctx, in)
	}
	var found []storage.IssuedCertificate
	for _, s := range in.Serials {
		c, err := m.Store.Certificate(ctx, s)
		if errors.Is(err, storage.ErrNotFound) {
			return contract.FindCertificatesResult{}, contract.Reject("unknown_certificate",
				"このシリアル番号の電子証明書は記録されていません / No certificate with this serial number is recorded.")
		}
		if err != nil {
			return contract.FindCertificatesResult{}, err
		}
		if c.ResidentCode != in.ResidentCode {
			return contract.FindCertificatesResult{}, contract.Reject("not_holder",
				"この電子証明書はこの住民のものではありません / This certificate is not this resident's.")
		}
		found = append(found, c)
	}
	if len(in.Serials) == 0 {
		for _, kind := range []string{contract.KindSigning, contract.KindUserAuth} {
			if !slices.Contains(in.Kinds, kind) {
				continue
			}
			c, err := m.Store.ActiveCertificate(ctx, in.ResidentCode, kind)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			if err != nil {
				return contract.FindCertificatesResult{}, err
			}
			found = append(found, c)
		}
	}
	var res contract.FindCertificatesResult
	for _, c := range found {
		// An expired or already revoked certificate is not acted on.
		if c.Status != "active" || !c.NotAfter.After(in.Today) {
			continue
		}
		res.Certificates = append(res.Certificates, contract.RecordedCertificate{Serial: c.Serial, Kind: c.Kind, Card: c.CardSerial, NotAfter: c.NotAfter, Status: c.Status})
	}
	if len(res.Certificates) == 0 {
		return res, contract.Reject("no_current_certificate",
			"対象となる有効な電子証明書がありません / There is no valid certificate to act on.")
	}
	return res, nil
}

// RecordRevoked marks the certificates revoked in the municipal record and
// a card reported lost as lost; repeating it is harmless.
func (m *Municipal) RecordRevoked(ctx context.Context, in contract.RecordRevokedInput) (contract.RecordRevokedResult, error) {
	for _, s := range in.Serials {
		if err := m.Store.MarkCertificate(ctx, s, "revoked"); err != nil {
			return contract.RecordRevokedResult{}, err
		}
	}
	if in.LostCard != "" {
		if err := m.Store.MarkCard(ctx, in.LostCard, "lost"); err != nil {
			return contract.RecordRevokedResult{}, err
		}
	}
	return contract.RecordRevokedResult{}, nil
}

// onCard is FindCertificates for the certificates of one card.
func (m *Municipal) onCard(ctx context.Context, in contract.FindCertificatesInput) (contract.FindCertificatesResult, error) {
	all, err := m.Store.Certificates(ctx, in.ResidentCode)
	if err != nil {
		return contract.FindCertificatesResult{}, err
	}
	var res contract.FindCertificatesResult
	for _, c := range all {
		if c.CardSerial == in.OnCard && slices.Contains(in.Kinds, c.Kind) && c.NotAfter.After(in.Today) && c.Status != "superseded" {
			res.Certificates = append(res.Certificates, contract.RecordedCertificate{Serial: c.Serial, Kind: c.Kind, Card: c.CardSerial, NotAfter: c.NotAfter, Status: c.Status})
		}
	}
	if len(res.Certificates) == 0 {
		return res, contract.Reject("card_not_held",
			"このカードにはこの住民の有効な利用者証明用電子証明書がありません / This card holds no valid user-authentication certificate of this person.")
	}
	return res, nil
}
