package kit

// RevocationState is the ex-officio revocation family's section of the
// state (第2 2(3)): what the register's change revokes, and, for a batch,
// how far it got. No personal data: kinds, serials and counts.
type RevocationState struct {
	// Change is the register change's kind (internal/register.Change).
	Change string `json:"change,omitempty"`
	// Kinds are the certificate kinds the change revokes, with their
	// reasons (kind → RFC 5280 name).
	Reasons map[string]string `json:"reasons,omitempty"`
	// Revoked are the certificates revoked, one by one (a single change).
	Revoked []RevokedCertificate `json:"revoked,omitempty"`
	// Counts of a batch: its changes, those processed, certificates revoked
	// (Replayed: revoked by an earlier attempt), and those another procedure
	// had revoked first.
	Changes        int `json:"changes,omitempty"`
	Processed      int `json:"processed,omitempty"`
	RevokedCount   int `json:"revokedCount"`
	Replayed       int `json:"replayed,omitempty"`
	AlreadyRevoked int `json:"alreadyRevoked,omitempty"`
	// Notice says how the holder was told (the notice document recorded).
	Notice string `json:"notice,omitempty"`
}

// RevokedCertificate is one certificate revoked ex officio.
type RevokedCertificate struct {
	Kind   string `json:"kind"`
	Serial string `json:"serial"`
	Reason string `json:"reason"`
}
