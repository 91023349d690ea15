package contract

import (
	"slices"

	"github.com/madoguchi/madoguchi/internal/reasons"
)

// Procedure names shared by every process: the gateway starts them, the CA
// checks its callers against them, the catalog in workflows lists them with
// their workflows. Each is also the prefix of its workflow ids.
const (
	// ProcInPersonIssuance is 第2 1(1): issuance / renewal in person.
	ProcInPersonIssuance = "inperson-issuance"
	// ProcProxyIssuance is 第2 1(2): issuance / renewal applied for by a proxy.
	ProcProxyIssuance = "proxy-issuance"
	// ProcRelayForwarding is the relay municipality's side of a relay
	// application (経由市区町村, 令和4年改正).
	ProcRelayForwarding = "relay-forwarding"
	// ProcRelayIssuance is the address municipality's side of it.
	ProcRelayIssuance = "relay-issuance"
)

// allowedReasons is the allowlist of revocation reasons per procedure, after
// boulder's per-caller reasons: an issuance may revoke only the certificate
// it renews (superseded), the certificates of the card a new card replaces
// (keyCompromise when that card was reported lost, cessationOfOperation
// otherwise) and, as compensation, the certificates it issued but could not
// write to the card (cessationOfOperation: they will never be used). The
// revocation procedures add theirs as they are built.
var allowedReasons = map[string][]reasons.Reason{
	ProcInPersonIssuance: issuanceReasons,
	ProcProxyIssuance:    issuanceReasons,
	ProcRelayIssuance:    issuanceReasons,
	// 第2 2(3): a register change revokes the signing certificate as
	// affiliationChanged, the user-authentication certificate as
	// cessationOfOperation (internal/register.Revocations).
	ProcExOfficioRevocation:      exOfficioReasons,
	ProcExOfficioRevocationBatch: exOfficioReasons,
}

var issuanceReasons = []reasons.Reason{reasons.Superseded, reasons.CessationOfOperation, reasons.KeyCompromise}

// ReasonAllowed reports whether a procedure may revoke (or hold) with the
// reason. The CA asks it about the workflow that called it, which no input
// can forge.
func ReasonAllowed(procedure string, r reasons.Reason) bool {
	return slices.Contains(allowedReasons[procedure], r)
}

// AllowedReasons returns a procedure's allowed reasons, for documentation
// and tests.
func AllowedReasons(procedure string) []reasons.Reason {
	return slices.Clone(allowedReasons[procedure])
}

// The ex-officio revocation procedures (第2 2(3)).
const (
	// ProcExOfficioRevocation is 第2 2(3): the counter work for the
	// Organization's ex-officio revocation after one register change.
	ProcExOfficioRevocation = "exofficio-revocation"
	// ProcExOfficioRevocationBatch is the same for a batch of register
	// changes (a municipal merger, a re-numbering of addresses).
	ProcExOfficioRevocationBatch = "exofficio-revocation-batch"
)

var exOfficioReasons = []reasons.Reason{reasons.AffiliationChanged, reasons.CessationOfOperation}
