package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/workflows/kit"
)

// HandOverUpdate records that a clerk handed the card to the applicant.
const HandOverUpdate = "hand-over"

// StepHandOver is the wait for the card to be handed to the applicant.
const StepHandOver = "hand_over"

// HandOverWindow bounds how long a card waits to be collected.
const HandOverWindow = 90 * 24 * time.Hour

// HandOverInput is the clerk handing the card over.
type HandOverInput struct {
	Clerk string `json:"clerk"`
}

// SetClerk implements kit.Actor.
func (in *HandOverInput) SetClerk(l string) { in.Clerk = l }

// HandOverResult acknowledges the hand-over.
type HandOverResult struct {
	At time.Time `json:"at"`
}

// handOverStep is the gateway's route for the hand-over.
var handOverStep = kit.NewHumanStep[HandOverInput]("hand-over", HandOverUpdate)

// handOver is the hand-over of a card at the counter (交付). With a
// terminal, the card in its reader is checked to be the one meant for this
// applicant first.
type handOver struct {
	c        *kit.Case
	term     *kit.Terminal
	serial   string
	open     bool
	handedBy string
	// external is set when the other side handed the card over.
	external bool
}

func useHandOver(ctx workflow.Context, c *kit.Case, term *kit.Terminal) (*handOver, error) {
	h := &handOver{c: c, term: term}
	return h, workflow.SetUpdateHandlerWithOptions(ctx, HandOverUpdate, h.handOver,
		workflow.UpdateHandlerOptions{Validator: h.validate})
}

// expect names the card to hand over.
func (h *handOver) expect(serial string) { h.serial = serial }

// ready reports whether a card waits to be handed over here.
func (h *handOver) ready() bool { return h.serial != "" }

// await waits for the hand-over (or, with the other side handing it over,
// for their word) and records it.
func (h *handOver) await(ctx workflow.Context, where string) error {
	h.c.Enter(ctx, StepHandOver, "")
	h.open = true
	err := h.c.Await(ctx, HandOverWindow, "clerk", "clerk: hand the card over",
		kit.Lapse{Code: "card_not_collected", Message: "カードが期限内に交付されませんでした / The card was not collected in time."},
		func() bool { return h.handedBy != "" || h.external })
	h.open = false
	if err != nil {
		return err
	}
	if h.handedBy == "" {
		return h.c.Record(ctx, "hand_over", "relay", where)
	}
	return h.c.Record(ctx, "hand_over", h.handedBy, where)
}

func (h *handOver) validate(ctx workflow.Context, in HandOverInput) error {
	if err := h.c.Accepting(); err != nil {
		return err
	}
	if !h.open || h.handedBy != "" {
		return errors.New("この団体で交付する段階ではありません / The card is not waiting to be handed over here")
	}
	if in.Clerk == "" {
		return errors.New("交付した職員が不明です / The clerk is missing")
	}
	return nil
}

func (h *handOver) handOver(ctx workflow.Context, in HandOverInput) (HandOverResult, error) {
	err := h.c.Serialized(ctx, func(ctx workflow.Context) error {
		if h.handedBy != "" {
			return nil
		}
		if h.term != nil && h.serial != "" {
			read, err := h.term.ReadCard(ctx)
			if err != nil {
				return err
			}
			if read.CardSerial != h.serial {
				return errors.New("端末のカードはこの申請者のものではありません / The card in the terminal is not this applicant's")
			}
		}
		h.handedBy = in.Clerk
		return nil
	})
	return HandOverResult{At: workflow.Now(ctx)}, err
}
