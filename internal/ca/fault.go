package ca

// faultPoint names a place in Issue where the crash test
// (tests/integration/crash_test.go) holds the CA worker so that it can be
// killed there. The hold exists only in binaries built with the
// madoguchi_faults tag (fault_on.go); production builds compile the no-op
// of fault_off.go.
type faultPoint string

const (
	// faultReserved: the reservation row is committed, nothing is signed.
	faultReserved faultPoint = "reserved"
	// faultSigned: the certificate is signed and stored, the answer not
	// yet returned.
	faultSigned faultPoint = "signed"
)
