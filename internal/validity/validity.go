package validity

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors; callers map them with errors.Is.
var (
	// ErrInvalidInput means a required date is missing or malformed.
	ErrInvalidInput = errors.New("validity: invalid input / 入力が正しくありません")
	// ErrCardExpired means the card expires on or before the issue date, so
	// no certificate can be valid on it beyond the issue day.
	ErrCardExpired = errors.New("validity: the card expires on or before the issue date / カードの有効期限が発行日以前です")
	// ErrUserAuthExpired means the user-authentication certificate that caps
	// the signing certificate expires on or before the issue date.
	ErrUserAuthExpired = errors.New("validity: the user-authentication certificate expires on or before the issue date / 利用者証明用電子証明書の有効期限が発行日以前です")
)

// Birthdays counted for an ordinary issuance and for a renewal applied for
// with less than 3 months left (規則 13 (1), 49 (1)).
const (
	OrdinaryBirthdays = 5
	RenewalBirthdays  = 6
)

// RenewalMonths is how many calendar months before expiry renewal opens.
const RenewalMonths = 3

// Input describes one issuance.
type Input struct {
	// IssueDate is the instant of issue; its Asia/Tokyo date is the issue date.
	IssueDate time.Time
	// BirthDate is the applicant's date of birth from the resident register.
	BirthDate Date
	// CardExpiry is the last day the card (個人番号カード) is valid.
	CardExpiry Date
	// Renewal marks an application that replaces a currently valid
	// certificate of the same kind (更新).
	Renewal bool
	// CurrentNotAfter is the NotAfter of the certificate being renewed;
	// required when Renewal is set.
	CurrentNotAfter time.Time
	// ApplicationDate is when the renewal was applied for. The 6th-birthday
	// rule depends on the application, not on the issue, which can be weeks
	// later (a proxy's inquiry reply, a relay municipality). Zero means
	// IssueDate.
	ApplicationDate time.Time
	// UserAuthNotAfter is the NotAfter of the user-authentication certificate
	// the applicant holds or is being issued together; nil when none. It caps
	// only the signing certificate.
	UserAuthNotAfter *time.Time
}

// Limit names the rule that fixed a certificate's last day.
type Limit string

// The limits, in the order they are reported when several fall on the same day.
const (
	LimitBirthday Limit = "birthday"
	LimitCard     Limit = "card_expiry"
	LimitUserAuth Limit = "user_auth_expiry"
)

// Period is a computed validity period.
type Period struct {
	// NotBefore is the issue instant in Asia/Tokyo, truncated to the second.
	NotBefore time.Time
	// NotAfter is 23:59:59 Asia/Tokyo on LastDay.
	NotAfter time.Time
	// LastDay is the last day the certificate is valid (有効期間の満了する日).
	LastDay Date
	// Limit is the rule that fixed LastDay.
	Limit Limit
	// Birthdays is 5, or 6 for a renewal within the renewal window.
	Birthdays int
}

// Signing computes the signing certificate's validity (規則 13): from the
// issue date to the earliest of the 5th (renewal: 6th) birthday after it,
// the card's expiry and, when in.UserAuthNotAfter is set, the
// user-authentication certificate's expiry.
func Signing(in Input) (Period, error) {
	p, err := compute(in, true)
	if err != nil {
		return Period{}, fmt.Errorf("signing certificate: %w", err)
	}
	return p, nil
}

// UserAuth computes the user-authentication certificate's validity (規則 49):
// from the issue date to the earliest of the 5th (renewal: 6th) birthday
// after it and the card's expiry. in.UserAuthNotAfter is ignored.
func UserAuth(in Input) (Period, error) {
	p, err := compute(in, false)
	if err != nil {
		return Period{}, fmt.Errorf("user-authentication certificate: %w", err)
	}
	return p, nil
}

// Together computes both periods when the two certificates are issued in one
// procedure: the user-authentication certificate first, then the signing
// certificate capped by it. in.UserAuthNotAfter is replaced by the new
// certificate's NotAfter. in.Renewal and in.CurrentNotAfter apply to both,
// since a card's two certificates are renewed together.
func Together(in Input) (signing, userAuth Period, err error) {
	userAuth, err = UserAuth(in)
	if err != nil {
		return Period{}, Period{}, err
	}
	na := userAuth.NotAfter
	in.UserAuthNotAfter = &na
	signing, err = Signing(in)
	if err != nil {
		return Period{}, Period{}, err
	}
	return signing, userAuth, nil
}

// SigningNotAfter returns the signing certificate's NotAfter (see Signing).
func SigningNotAfter(in Input) (time.Time, error) {
	p, err := Signing(in)
	return p.NotAfter, err
}

// UserAuthNotAfter returns the user-authentication certificate's NotAfter
// (see UserAuth).
func UserAuthNotAfter(in Input) (time.Time, error) {
	p, err := UserAuth(in)
	return p.NotAfter, err
}

func compute(in Input, signing bool) (Period, error) {
	if in.IssueDate.IsZero() {
		return Period{}, fmt.Errorf("%w: issue date missing", ErrInvalidInput)
	}
	if !in.BirthDate.Valid() {
		return Period{}, fmt.Errorf("%w: birth date missing or malformed", ErrInvalidInput)
	}
	if !in.CardExpiry.Valid() {
		return Period{}, fmt.Errorf("%w: card expiry missing or malformed", ErrInvalidInput)
	}
	issue := DateOf(in.IssueDate)
	if in.BirthDate.After(issue) {
		// The birth date is personal data: say what is wrong, not what it is.
		return Period{}, fmt.Errorf("%w: birth date is after the issue date", ErrInvalidInput)
	}

	n := OrdinaryBirthdays
	if in.Renewal {
		if in.CurrentNotAfter.IsZero() {
			return Period{}, fmt.Errorf("%w: renewal without the current certificate's expiry", ErrInvalidInput)
		}
		applied := in.ApplicationDate
		if applied.IsZero() {
			applied = in.IssueDate
		}
		if RenewalOpen(in.CurrentNotAfter, applied) {
			n = RenewalBirthdays
		}
	}

	last, limit := NthBirthdayAfter(in.BirthDate, issue, n), LimitBirthday

	if !in.CardExpiry.After(issue) {
		return Period{}, fmt.Errorf("%w (card expiry %s, issue date %s)", ErrCardExpired, in.CardExpiry, issue)
	}
	if in.CardExpiry.Before(last) {
		last, limit = in.CardExpiry, LimitCard
	}

	if signing && in.UserAuthNotAfter != nil {
		ua := DateOf(*in.UserAuthNotAfter)
		if !ua.After(issue) {
			return Period{}, fmt.Errorf("%w (user-authentication expiry %s, issue date %s)", ErrUserAuthExpired, ua, issue)
		}
		if ua.Before(last) {
			last, limit = ua, LimitUserAuth
		}
	}

	return Period{
		NotBefore: in.IssueDate.In(Tokyo).Truncate(time.Second),
		NotAfter:  last.End(),
		LastDay:   last,
		Limit:     limit,
		Birthdays: n,
	}, nil
}

// RenewalOpensOn returns the first day (Asia/Tokyo) on which a certificate
// expiring at currentNotAfter may be renewed: the same day of the month
// RenewalMonths calendar months before its last day, clamped to the end of
// that month (last day 2026-05-31 → opens 2026-02-28).
func RenewalOpensOn(currentNotAfter time.Time) Date {
	return DateOf(currentNotAfter).AddMonthsClamped(-RenewalMonths)
}

// RenewalOpen reports whether, at now, the certificate expiring at
// currentNotAfter is inside its renewal window: on or after RenewalOpensOn
// and not yet expired. After expiry there is nothing to renew; a new
// application is an ordinary issuance with 5 birthdays.
func RenewalOpen(currentNotAfter, now time.Time) bool {
	if currentNotAfter.IsZero() || now.After(currentNotAfter) {
		return false
	}
	return !DateOf(now).Before(RenewalOpensOn(currentNotAfter))
}
