package kit

import "encoding/json"

// Actor is an update input that carries the clerk who sent it. The gateway
// sets it from the session, never from the request body.
type Actor interface{ SetClerk(login string) }

// HumanStep describes one clerk step a module registers: the gateway's
// route, the update it sends, and how to read its input. The catalog lists
// each procedure's human steps from its modules, and the gateway's step
// table is made from the catalog.
type HumanStep struct {
	// Path is the route under /api/cases/{case}/.
	Path string
	// Update is the update's name.
	Update string
	// Decode reads the body and sets the clerk.
	Decode func(body []byte, clerk string) (any, error)
}

// NewHumanStep makes a HumanStep for an input type whose pointer is an
// Actor; procedures use it for their own steps.
func NewHumanStep[T any, P interface {
	*T
	Actor
}](path, update string) HumanStep {
	return HumanStep{Path: path, Update: update, Decode: func(body []byte, clerk string) (any, error) {
		var in T
		if len(body) > 0 {
			if err := json.Unmarshal(body, &in); err != nil {
				return nil, err
			}
		}
		P(&in).SetClerk(clerk)
		return in, nil
	}}
}

// The clerk steps of the modules.
var (
	// CancelStep cancels an open case (every procedure).
	CancelStep = NewHumanStep[CancelInput]("cancel", CancelUpdate)
	// IdentityStep is the identity check.
	IdentityStep = NewHumanStep[ConfirmIdentityInput]("identity-check", ConfirmIdentityUpdate)
	// PINEntryStep declares a clerk will type the PINs.
	PINEntryStep = NewHumanStep[DeclarePINEntryInput]("pin-entry", DeclarePINEntryUpdate)
	// IntentStep is the second clerk's confirmation.
	IntentStep = NewHumanStep[ConfirmIntentInput]("confirm-intent", ConfirmIntentUpdate)
	// InquiryMailedStep records the inquiry's mailing.
	InquiryMailedStep = NewHumanStep[InquiryMailedInput]("inquiry-mailed", InquiryMailedUpdate)
	// ReplyStep enters the reply code.
	ReplyStep = NewHumanStep[EnterReplyInput]("reply", EnterReplyUpdate)
	// ExtendStep extends a legal deadline with a notice.
	ExtendStep = NewHumanStep[ExtendDeadlineInput]("extend-deadline", ExtendDeadlineUpdate)
)

// SetClerk implements Actor.
func (in *CancelInput) SetClerk(l string) { in.Clerk = l }
