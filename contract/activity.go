// Package contract holds the wire types every madoguchi process shares: task
// queues, certificate kinds, the application and register records, the
// error types workflows recognise, typed revocation reasons, and each
// activity's name with its input and result types.
//
// It links no database driver, PKCS#11, PC/SC or PDF code, so the card
// agent, the CA worker and the municipal worker each link only what they
// run; the activity implementations live in activities/municipal,
// activities/terminal and activities/org, one package per trust zone.
package contract

// Zone is the trust zone, and so the process, an activity runs in.
type Zone string

// The three zones.
const (
	// ZoneMunicipal is the municipal worker, with the municipal database.
	ZoneMunicipal Zone = "municipal"
	// ZoneTerminal is a counter terminal's card agent, with the card reader.
	ZoneTerminal Zone = "terminal"
	// ZoneOrganization is the Organization's CA worker, with the HSM.
	ZoneOrganization Zone = "organization"
)

// Activity names one activity with its input and result types, so a
// workflow calls it by name without linking its implementation.
type Activity[In, Out any] struct {
	Name string
	Zone Zone
}
