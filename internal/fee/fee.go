// Package fee is the rule of the issuance fee (第3 5 電子証明書発行手数料管理):
// which fee item a case's certificates fall under, from the facts of the
// case and the municipality's record of the applicant's cards. The amount
// of an item is the municipality's schedule's (internal/storage), never
// this package's and never a clerk's.
//
// Our reading. The manual defines 発行手数料 as the fee paid when a user is
// issued certificates (第1 (29)) and leaves the amounts to the schedule.
// The rule in force, from the public guidance the design follows: issuance
// is free — a first issuance, a renewal (更新) on the same card, and the
// certificates of a new card that replaced one that simply ran out (its
// status expired, or its own expiry passed or within the card's renewal
// window of three months) — except that certificates issued again on a
// card that was re-issued (再交付) cost 200 yen. A card was re-issued when
// the card it replaced did not simply run out: it was reported lost, or it
// was returned (damaged, broken) or still recorded active with more than
// the card's renewal window of three months left on the case's day. A card
// returned within that window was returned at its renewal, which is free.
// The card replaced is the applicant's other
// card the municipality recorded with the latest expiry; a card never seen
// before with no other card is a first card.
package fee

import "time"

// Fee items of the schedule.
const (
	// ItemIssuance is the issuance or renewal of certificates (free today).
	ItemIssuance = "certificate_issuance"
	// ItemReissueAfterCardReissue is the certificates issued again on a card
	// that was re-issued (再交付) after the old one was lost, damaged, etc.
	ItemReissueAfterCardReissue = "certificate_reissue_after_card_reissue"
)

// Items lists the fee items, in the reports' order.
var Items = []string{ItemIssuance, ItemReissueAfterCardReissue}

// Card statuses of the municipality's card record (cards.status).
const (
	CardActive   = "active"
	CardLost     = "lost"
	CardReturned = "returned"
	CardExpired  = "expired"
)

// CardRenewalMonths is how long before its expiry a card is renewed rather
// than re-issued: a new card made in that window replaces one that simply
// ran out.
const CardRenewalMonths = 3

// PreviousCard is the applicant's card that the case's card replaced.
type PreviousCard struct {
	Status    string
	ExpiresOn time.Time // the card's last valid day (a date, Asia/Tokyo)
}

// Facts are what the fee depends on, all from the case and the records.
type Facts struct {
	// Day is the case's day (Asia/Tokyo): the fee's date.
	Day time.Time
	// Renewal is set when certificates on this same card were renewed.
	Renewal bool
	// Previous is the card this one replaced, nil for a first card (or
	// when the certificates go on the card that already held them).
	Previous *PreviousCard
}

// ItemFor is the fee item of a case's issuance.
func ItemFor(f Facts) string {
	if f.Renewal || f.Previous == nil {
		return ItemIssuance
	}
	if ReissuedCard(*f.Previous, f.Day) {
		return ItemReissueAfterCardReissue
	}
	return ItemIssuance
}

// ReissuedCard tells whether a new card that replaced prev on day was a
// re-issue (再交付) rather than the renewal of a card that ran out.
func ReissuedCard(prev PreviousCard, day time.Time) bool {
	switch prev.Status {
	case CardLost:
		return true
	case CardExpired:
		return false
	}
	// Returned or still active: it ran out (or was about to, and was
	// renewed) unless it had more than the renewal window left.
	y, m, d := day.Date()
	window := time.Date(y, m+CardRenewalMonths, d, 0, 0, 0, 0, time.UTC)
	py, pm, pd := prev.ExpiresOn.Date()
	return time.Date(py, pm, pd, 0, 0, 0, 0, time.UTC).After(window)
}
