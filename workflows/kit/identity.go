package kit

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
)

// ConfirmIdentityUpdate records the clerk's check of identity documents.
const ConfirmIdentityUpdate = "confirm-identity"

// Whose identity is checked.
const (
	PersonApplicant = "applicant"
	PersonProxy     = "proxy"
	// PersonLegalRepresentative is the 法定代理人 of a person under 15 or an
	// adult ward.
	PersonLegalRepresentative = "legal_representative"
)

// IdentityDocumentTypes are the identity documents a clerk may accept in
// person (本人確認書類): a photo ID shown at the counter.
var IdentityDocumentTypes = []string{
	"individual_number_card", // 個人番号カード
	"drivers_license",        // 運転免許証
	"passport",               // 旅券
	"residence_card",         // 在留カード
	"other_photo_id",         // その他官公署発行の写真付き証明書
}

// IdentityCheckWindow bounds an identity check at the counter: the person
// is there, so an unanswered check means the visit was abandoned.
const IdentityCheckWindow = 8 * time.Hour

// ConfirmIdentityInput is the clerk's identity check (第2 1(1)ア(ウ)).
type ConfirmIdentityInput struct {
	Clerk        string `json:"clerk"`
	DocumentType string `json:"documentType"`
	// Person is whose documents were checked; empty means the one the case
	// waits for.
	Person string `json:"person,omitempty"`
	// Verified is false when the documents do not prove the identity; the
	// application is then refused.
	Verified bool `json:"verified"`
	// PowerOfAttorney is true when a proxy showed the power of attorney
	// (委任状); a proxy's check needs it.
	PowerOfAttorney bool `json:"powerOfAttorney,omitempty"`
}

// SetClerk implements Actor.
func (in *ConfirmIdentityInput) SetClerk(l string) { in.Clerk = l }

// ConfirmIdentityResult acknowledges the check.
type ConfirmIdentityResult struct {
	Person string `json:"person"`
}

// IdentityCheck is one recorded check, without personal data.
type IdentityCheck struct {
	Person       string    `json:"person"`
	Clerk        string    `json:"clerk"`
	DocumentType string    `json:"documentType"`
	At           time.Time `json:"at"`
}

// IdentityState lists the checks made.
type IdentityState struct {
	Checks []IdentityCheck `json:"checks,omitempty"`
}

// Identity is the identity check module.
type Identity struct {
	c *Case
	// acceptAt are the steps at which a check is accepted early (the clerk
	// may check documents while the register check runs).
	acceptAt []string
	expect   string
	got      *ConfirmIdentityInput
}

// UseIdentity opts the case into identity checks.
func UseIdentity(ctx workflow.Context, c *Case, acceptAt ...string) (*Identity, error) {
	id := &Identity{c: c, acceptAt: acceptAt, expect: PersonApplicant}
	c.st.Identity = &IdentityState{}
	return id, workflow.SetUpdateHandlerWithOptions(ctx, ConfirmIdentityUpdate, id.confirm,
		workflow.UpdateHandlerOptions{Validator: id.validate})
}

// Expect sets whose check comes next, before the wait; an early check of
// another person is dropped and asked for again.
func (id *Identity) Expect(person string) {
	if person != id.expect {
		id.expect, id.got = person, nil
	}
}

// Again asks for a new check of the person (e.g. the proxy at the second
// visit), whatever was checked before.
func (id *Identity) Again(person string) { id.expect, id.got = person, nil }

func (id *Identity) validate(ctx workflow.Context, in ConfirmIdentityInput) error {
	if err := id.c.Accepting(); err != nil {
		return err
	}
	if id.got != nil || !slices.Contains(id.acceptAt, id.c.Step()) {
		return fmt.Errorf("本人確認を受け付ける段階ではありません（現在: %s） / The procedure is not waiting for an identity check (now at %s)", id.c.Step(), id.c.Step())
	}
	if in.Clerk == "" {
		return errors.New("確認した職員が不明です / The clerk is missing")
	}
	if in.Person != "" && in.Person != id.expect {
		return fmt.Errorf("いま確認するのは %s の本人確認書類です / The check now is of the %s's documents", id.expect, id.expect)
	}
	if !slices.Contains(IdentityDocumentTypes, in.DocumentType) {
		return fmt.Errorf("本人確認書類の種類が不明です / Unknown identity document type %q", in.DocumentType)
	}
	if id.expect == PersonProxy && in.Verified && !in.PowerOfAttorney {
		return errors.New("代理人の場合は委任状を確認してください / For a proxy, check the power of attorney too")
	}
	return nil
}

func (id *Identity) confirm(ctx workflow.Context, in ConfirmIdentityInput) (ConfirmIdentityResult, error) {
	in.Person = id.expect
	id.got = &in
	return ConfirmIdentityResult{Person: id.expect}, nil
}

// Await waits for the check of the expected person (第2 1(1)ア(ウ)) at the
// given step and records it; unverified documents refuse the application.
func (id *Identity) Await(ctx workflow.Context, step, what string) error {
	if !slices.Contains(id.acceptAt, step) {
		id.acceptAt = append(id.acceptAt, step)
	}
	id.c.Enter(ctx, step, "")
	if err := id.c.Await(ctx, IdentityCheckWindow, "clerk", what,
		Lapse{"identity_check_timeout", "本人確認が行われないまま受付時間を過ぎました / The identity check was not done in time."},
		func() bool { return id.got != nil }); err != nil {
		return err
	}
	return id.record(ctx, true)
}

// AwaitVisit waits up to bound for a check of the expected person at the
// given step (a requester who comes to collect a letter), and records it.
// It does not end the case: came is false when nobody came in time, and an
// unverified check is recorded and returned for the procedure to decide.
func (id *Identity) AwaitVisit(ctx workflow.Context, step, what string, bound time.Duration) (came, verified bool, err error) {
	if !slices.Contains(id.acceptAt, step) {
		id.acceptAt = append(id.acceptAt, step)
	}
	id.c.Enter(ctx, step, "")
	id.c.Waiting(ctx, "clerk", what)
	ok, err := workflow.AwaitWithTimeout(ctx, max(bound, time.Millisecond), func() bool { return id.got != nil })
	if err != nil || !ok {
		return false, false, err
	}
	id.c.Done(ctx)
	verified = id.got.Verified
	err = id.record(ctx, false)
	id.got = nil
	return true, verified, err
}

// record writes the check to the state and the audit trail; reject refuses
// the application when the documents did not prove the identity.
func (id *Identity) record(ctx workflow.Context, reject bool) error {
	got := *id.got
	// A person checked again (a letter collected after a failed check)
	// gets an audit entry of its own: the trail keeps one per key.
	key, n := "identity_check:"+got.Person, 0
	for _, ch := range id.c.st.Identity.Checks {
		if ch.Person == got.Person {
			n++
		}
	}
	if n > 0 {
		key = fmt.Sprintf("%s:%d", key, n+1)
	}
	id.c.st.Identity.Checks = append(id.c.st.Identity.Checks, IdentityCheck{Person: got.Person, Clerk: got.Clerk, DocumentType: got.DocumentType, At: workflow.Now(ctx)})
	if err := id.c.Record(ctx, key, got.Clerk, got.DocumentType); err != nil {
		return err
	}
	if got.PowerOfAttorney {
		if err := id.c.Record(ctx, "power_of_attorney", got.Clerk, "shown"); err != nil {
			return err
		}
	}
	if reject && !got.Verified {
		return contract.Reject("identity_not_verified",
			"本人確認書類により本人であることが確認できませんでした / The identity documents did not prove the person's identity.")
	}
	return nil
}
