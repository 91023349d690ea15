package contract

import (
	"slices"
	"testing"

	"github.com/madoguchi/madoguchi/internal/reasons"
)

// TestReasonAllowed: which procedure may revoke with which reason. An
// issuance revokes what it renews (superseded), the certificates of the
// card a new card replaces (keyCompromise for a lost card, else
// cessationOfOperation), and, as compensation, what it issued but never
// wrote (cessationOfOperation); nothing else, and no hold. A procedure that
// revokes nothing (the relay side) or is unknown may use no reason.
func TestReasonAllowed(t *testing.T) {
	issuance := []reasons.Reason{reasons.Superseded, reasons.CessationOfOperation, reasons.KeyCompromise}
	want := map[string][]reasons.Reason{
		ProcInPersonIssuance: issuance,
		ProcProxyIssuance:    issuance,
		ProcRelayIssuance:    issuance,
		ProcRelayForwarding:  nil,
		"":                   nil,
		"revocation":         nil, // not built yet: it adds its own reasons
		// 第2 2(3): the signing certificate as affiliationChanged, the
		// user-authentication certificate as cessationOfOperation; never
		// keyCompromise or superseded.
		ProcExOfficioRevocation:      {reasons.AffiliationChanged, reasons.CessationOfOperation},
		ProcExOfficioRevocationBatch: {reasons.AffiliationChanged, reasons.CessationOfOperation},
	}
	all := append(reasons.Revocations(), reasons.CertificateHold, reasons.Reason(""), reasons.Reason("superseded "))
	for proc, allowed := range want {
		for _, r := range all {
			if got := ReasonAllowed(proc, r); got != slices.Contains(allowed, r) {
				t.Errorf("ReasonAllowed(%q, %q) = %v, want %v", proc, r, got, !got)
			}
		}
		got := AllowedReasons(proc)
		if !slices.Equal(sorted(got), sorted(allowed)) {
			t.Errorf("AllowedReasons(%q) = %v, want %v", proc, got, allowed)
		}
	}
	// AllowedReasons hands out a copy: changing it changes no rule.
	if got := AllowedReasons(ProcInPersonIssuance); len(got) > 0 {
		got[0] = reasons.CACompromise
		if ReasonAllowed(ProcInPersonIssuance, reasons.CACompromise) {
			t.Error("AllowedReasons returned the allowlist itself")
		}
	}
}

func sorted(rs []reasons.Reason) []reasons.Reason {
	out := slices.Clone(rs)
	slices.Sort(out)
	return out
}
