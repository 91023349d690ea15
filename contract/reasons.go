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
	// ProcInPersonRevocation is 第2 2(1): revocation on the holder's
	// application, or on a report that the key leaked or the card was lost.
	ProcInPersonRevocation = "inperson-revocation"
	// ProcProxyRevocation is 第2 2(2): the same, applied for by a proxy.
	ProcProxyRevocation = "proxy-revocation"
	// ProcLossReport is the Organization's 24-hour line taking a loss
	// report by card serial (一時保留 of the user-authentication
	// certificate, revocation of the signing one).
	ProcLossReport = "loss-report"
	// ProcInPersonHoldRelease is 第3 2(1): release of the hold in person.
	ProcInPersonHoldRelease = "inperson-hold-release"
	// ProcProxyHoldRelease is 第3 2(2): the same, by a proxy.
	ProcProxyHoldRelease = "proxy-hold-release"
	// ProcInPersonPINChange is 第3 1(1): the PIN change in person.
	ProcInPersonPINChange = "inperson-pin-change"
	// ProcInPersonPINReset is 第3 1(1): the PIN reset (初期化) in person.
	ProcInPersonPINReset = "inperson-pin-reset"
	// ProcProxyPINReset is 第3 1(2): the PIN reset by a proxy, through the
	// mailed inquiry.
	ProcProxyPINReset = "proxy-pin-reset"
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
	// The holder's wish, or a leak or loss (第1 4(3)イ (E), (A)).
	ProcInPersonRevocation: revocationReasons,
	ProcProxyRevocation:    revocationReasons,
	// A lost card: the user-authentication certificate is held, the signing
	// one revoked as compromised.
	ProcLossReport: {reasons.CertificateHold, reasons.KeyCompromise},
	// A hold release only lifts the hold.
	ProcInPersonHoldRelease: {reasons.CertificateHold},
	ProcProxyHoldRelease:    {reasons.CertificateHold},
	// 第2 2(3): a register change revokes the signing certificate as
	// affiliationChanged, the user-authentication certificate as
	// cessationOfOperation (internal/register.Revocations).
	ProcExOfficioRevocation:      exOfficioReasons,
	ProcExOfficioRevocationBatch: exOfficioReasons,
}

var revocationReasons = []reasons.Reason{reasons.KeyCompromise, reasons.CessationOfOperation}

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
