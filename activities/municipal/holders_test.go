package municipal

import (
	"context"
	"testing"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// holdersStore is a register of several people in memory.
type holdersStore struct {
	MunicipalStore
	people map[string]storage.Resident
}

func (s *holdersStore) Resident(_ context.Context, code string) (storage.Resident, error) {
	r, ok := s.people[code]
	if !ok {
		return storage.Resident{}, storage.ErrNotFound
	}
	return r, nil
}

// TestReadHolders: the expiry notices' addresses are the register's, of
// any municipality; one who moved out, died or is unknown gets no letter;
// a resident named twice is read once; nothing but the name and address
// goes back.
func TestReadHolders(t *testing.T) {
	m := &Municipal{Store: &holdersStore{people: map[string]storage.Resident{
		"00000000011": {ResidentCode: "00000000011", MunicipalityCode: "131016", Name: "山田 太郎", Address: "東京都千代田区千代田1番1号", Status: "resident", Sex: "male"},
		"00000000028": {ResidentCode: "00000000028", MunicipalityCode: "141003", Name: "佐藤 花子", Address: "横浜市中区1番地", Status: "resident"},
		"00000000036": {ResidentCode: "00000000036", MunicipalityCode: "131016", Name: "転出 者", Address: "東京都", Status: "moved_out"},
		"00000000044": {ResidentCode: "00000000044", MunicipalityCode: "131016", Name: "死亡 者", Address: "東京都", Status: "deceased"},
	}}}
	got, err := m.ReadHolders(context.Background(), contract.ReadHoldersInput{
		ResidentCodes: []string{"00000000011", "00000000028", "00000000036", "00000000044", "99999999999", "00000000011"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []contract.Requester{
		{ResidentCode: "00000000011", Name: "山田 太郎", Address: "東京都千代田区千代田1番1号"},
		{ResidentCode: "00000000028", Name: "佐藤 花子", Address: "横浜市中区1番地"},
	}
	if len(got.Holders) != len(want) {
		t.Fatalf("holders %+v, want %+v", got.Holders, want)
	}
	for i := range want {
		if got.Holders[i] != want[i] {
			t.Errorf("holder %d: %+v, want %+v", i, got.Holders[i], want[i])
		}
	}
}
