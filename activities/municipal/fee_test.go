package municipal

import (
	"context"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/fee"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// feeStore is the fee part of MunicipalStore in memory: the schedule's
// amounts and the applicant's card history.
type feeStore struct {
	MunicipalStore
	history storage.CardHistory
	asked   []string // card, case of each CardHistory
	items   []string // the items RecordFee was asked for
}

func (s *feeStore) CardHistory(_ context.Context, _, card, number string) (storage.CardHistory, error) {
	s.asked = append(s.asked, card+" "+number)
	return s.history, nil
}

func (s *feeStore) RecordFee(_ context.Context, number, item string, at time.Time) (storage.Fee, error) {
	s.items = append(s.items, item)
	amount := 0
	if item == fee.ItemReissueAfterCardReissue {
		amount = 200
	}
	return storage.Fee{CaseNumber: number, Item: item, AmountYen: amount, RecordedAt: at}, nil
}

// TestRecordFeeFromFacts: the activity picks the item from the case's card
// and the card records, and answers the item and amount recorded; a case
// of the old shape records the item it names.
func TestRecordFeeFromFacts(t *testing.T) {
	now := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	lost := &storage.Card{Serial: "C0", Status: "lost", ExpiresOn: time.Date(2031, 4, 1, 0, 0, 0, 0, time.UTC)}
	expired := &storage.Card{Serial: "C0", Status: "expired", ExpiresOn: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}
	in := contract.RecordFeeInput{CaseNumber: "131016-20261202-000001", ResidentCode: "00000000011", CardSerial: "C1"}
	for _, tc := range []struct {
		name    string
		in      contract.RecordFeeInput
		history storage.CardHistory
		item    string
		amount  int
	}{
		{"a first card", in, storage.CardHistory{}, fee.ItemIssuance, 0},
		{"the old card was lost", in, storage.CardHistory{Previous: lost}, fee.ItemReissueAfterCardReissue, 200},
		{"the old card expired", in, storage.CardHistory{Previous: expired}, fee.ItemIssuance, 0},
		{"the card held certificates before", in, storage.CardHistory{HeldCertificates: true, Previous: lost}, fee.ItemIssuance, 0},
		{"a renewal on the card", contract.RecordFeeInput{CaseNumber: in.CaseNumber, ResidentCode: in.ResidentCode, CardSerial: "C1", Renewal: true},
			storage.CardHistory{Previous: lost}, fee.ItemIssuance, 0},
		{"the old shape names its item", contract.RecordFeeInput{CaseNumber: in.CaseNumber, Item: fee.ItemIssuance},
			storage.CardHistory{Previous: lost}, fee.ItemIssuance, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &feeStore{history: tc.history}
			m := &Municipal{Store: st, Now: func() time.Time { return now }}
			res, err := m.RecordFee(context.Background(), tc.in)
			if err != nil || res.Item != tc.item || res.AmountYen != tc.amount {
				t.Errorf("RecordFee = %+v, %v; want %s %d yen", res, err, tc.item, tc.amount)
			}
			if tc.in.CardSerial != "" && (len(st.asked) != 1 || st.asked[0] != "C1 "+in.CaseNumber) {
				t.Errorf("card history asked %v", st.asked)
			}
		})
	}
	m := &Municipal{Store: &feeStore{}, Now: func() time.Time { return now }}
	if _, err := m.RecordFee(context.Background(), contract.RecordFeeInput{CaseNumber: in.CaseNumber, CardSerial: "C1"}); err == nil {
		t.Error("a card without its resident was recorded")
	}
}
