package contract

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Task queues.
const (
	MunicipalTaskQueue = "municipal"
	CATaskQueue        = "jlis-ca"
)

// TerminalTaskQueue is the task queue of one counter terminal's card agent.
func TerminalTaskQueue(terminalID string) string { return "terminal." + terminalID }

// Certificate kinds, as the manual names them.
const (
	KindSigning  = "sign" // 署名用電子証明書
	KindUserAuth = "auth" // 利用者証明用電子証明書
)

// Application is what the applicant wrote on the application form: the
// resident code the clerk found in the register and the 4 information.
// It is personal data: it travels only inside encrypted payloads.
type Application struct {
	ResidentCode  string `json:"residentCode"`
	Name          string `json:"name"`
	BirthDate     string `json:"birthDate"` // YYYY-MM-DD
	Sex           string `json:"sex"`       // male | female
	Address       string `json:"address"`
	FormerSurname string `json:"formerSurname,omitempty"`
	Alias         string `json:"alias,omitempty"`
	// Which certificates are asked for; at least one.
	Signing  bool `json:"signing"`
	UserAuth bool `json:"userAuth"`
}

// Kinds returns the requested kinds in a fixed order (signing first).
func (a Application) Kinds() []string {
	var k []string
	if a.Signing {
		k = append(k, KindSigning)
	}
	if a.UserAuth {
		k = append(k, KindUserAuth)
	}
	return k
}

// PersonalInfo is the register's record of the person, from which the
// signing certificate is made (never from what the applicant wrote).
type PersonalInfo struct {
	Name          string `json:"name"`
	NameKana      string `json:"nameKana,omitempty"`
	FormerSurname string `json:"formerSurname,omitempty"`
	Alias         string `json:"alias,omitempty"`
	BirthDate     string `json:"birthDate"`
	Sex           string `json:"sex"`
	Address       string `json:"address"`
}

// CurrentCertificate is a certificate the resident already holds.
type CurrentCertificate struct {
	Kind     string    `json:"kind"`
	Serial   string    `json:"serial"`
	NotAfter time.Time `json:"notAfter"`
	Card     string    `json:"card"`
	// CardStatus is the status of the card it is on (active, lost,
	// returned, expired).
	CardStatus string `json:"cardStatus,omitempty"`
}

// IssuedCertificate is a certificate issued in a procedure.
type IssuedCertificate struct {
	Kind      string    `json:"kind"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	DER       []byte    `json:"der,omitempty"`
	CADER     []byte    `json:"caDer,omitempty"`
}

// Error types of non-retryable application errors the workflows recognise.
const (
	// ErrTypeRejected is a rule a clerk must tell the applicant about; its
	// message is written for the clerk.
	ErrTypeRejected = "Rejected"
	// ErrTypeInvalid is malformed input no retry can fix.
	ErrTypeInvalid = "Invalid"
)

// Rejection is the detail of a Rejected error.
type Rejection struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field is the request's field a refused request is about, as a JSON
	// path with list indices from 0 (items.1.serial), when it is about one:
	// the console shows the message beside it.
	Field string `json:"field,omitempty"`
}

// Reject builds a non-retryable error that ends a procedure as rejected.
func Reject(code, message string) error {
	return temporal.NewNonRetryableApplicationError(message, ErrTypeRejected, nil, Rejection{Code: code, Message: message})
}

// AsRejection extracts the rejection from an activity error, if it is one.
func AsRejection(err error) (Rejection, bool) { return detailOf(err, ErrTypeRejected, "rejected") }

// detailOf extracts the Rejection of an application error of the given
// type; one without details gets the fallback code and its message.
func detailOf(err error, errType, fallback string) (Rejection, bool) {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != errType {
		return Rejection{}, false
	}
	var r Rejection
	if appErr.HasDetails() && appErr.Details(&r) == nil {
		return r, true
	}
	return Rejection{Code: fallback, Message: appErr.Message()}, true
}

// ErrTypeLapsed is a human step that never came within its bound; the case
// ends as lapsed, with the detail (a Rejection) a manager reads.
const ErrTypeLapsed = "Lapsed"

// Lapse builds the error that ends a case as lapsed.
func Lapse(code, message string) error {
	return temporal.NewNonRetryableApplicationError(message, ErrTypeLapsed, nil, Rejection{Code: code, Message: message})
}

// AsLapse extracts the detail of a Lapsed error, if it is one.
func AsLapse(err error) (Rejection, bool) { return detailOf(err, ErrTypeLapsed, "lapsed") }
