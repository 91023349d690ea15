package reasons

import (
	"errors"
	"testing"

	"golang.org/x/crypto/ocsp"
)

func TestMapping(t *testing.T) {
	tests := []struct {
		reason     Reason
		code       int
		ocspCode   int
		japanese   string
		revocation bool
	}{
		{KeyCompromise, 1, ocsp.KeyCompromise, "利用者の秘密鍵の危殆化", true},
		{CACompromise, 2, ocsp.CACompromise, "発行者署名符号の危殆化", true},
		{AffiliationChanged, 3, ocsp.AffiliationChanged, "証明書記録事項の変更", true},
		{Superseded, 4, ocsp.Superseded, "更新のための失効", true},
		{CessationOfOperation, 5, ocsp.CessationOfOperation, "利用者の意思によるサービスの停止", true},
		{CertificateHold, 6, ocsp.CertificateHold, "一時保留", false},
	}
	for _, tc := range tests {
		t.Run(string(tc.reason), func(t *testing.T) {
			if got := tc.reason.Code(); got != tc.code || got != tc.ocspCode {
				t.Errorf("Code() = %d, want %d (ocsp %d)", got, tc.code, tc.ocspCode)
			}
			if got := tc.reason.Japanese(); got != tc.japanese {
				t.Errorf("Japanese() = %q, want %q", got, tc.japanese)
			}
			if got := tc.reason.IsRevocation(); got != tc.revocation {
				t.Errorf("IsRevocation() = %v, want %v", got, tc.revocation)
			}
			if err := tc.reason.Validate(); (err == nil) != tc.revocation {
				t.Errorf("Validate() = %v, want nil=%v", err, tc.revocation)
			}
			back, err := FromCode(tc.code)
			if err != nil || back != tc.reason {
				t.Errorf("FromCode(%d) = %q, %v", tc.code, back, err)
			}
			byJa, err := Parse(tc.japanese)
			if err != nil || byJa != tc.reason {
				t.Errorf("Parse(%q) = %q, %v", tc.japanese, byJa, err)
			}
		})
	}
}

func TestRevocationsAreTheManualsFive(t *testing.T) {
	got := Revocations()
	want := []Reason{KeyCompromise, CACompromise, AffiliationChanged, Superseded, CessationOfOperation}
	if len(got) != len(want) {
		t.Fatalf("Revocations() has %d entries, want %d", len(got), len(want))
	}
	seen := map[int]bool{}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Revocations()[%d] = %q, want %q", i, got[i], want[i])
		}
		if seen[got[i].Code()] {
			t.Errorf("code %d appears twice", got[i].Code())
		}
		seen[got[i].Code()] = true
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Reason
		wantErr bool
	}{
		{"keyCompromise", KeyCompromise, false},
		{"KEYCOMPROMISE", KeyCompromise, false},
		{"key_compromise", KeyCompromise, false},
		{" key-compromise ", KeyCompromise, false},
		{"cACompromise", CACompromise, false},
		{"ca_compromise", CACompromise, false},
		{"affiliationChanged", AffiliationChanged, false},
		{"superseded", Superseded, false},
		{"cessation_of_operation", CessationOfOperation, false},
		{"certificateHold", CertificateHold, false},
		{"更新のための失効", Superseded, false},
		{"", "", true},
		{"unspecified", "", true},
		{"removeFromCRL", "", true},
		{"privilegeWithdrawn", "", true},
		{"更新", "", true},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if tc.wantErr {
			if !errors.Is(err, ErrUnknownReason) {
				t.Errorf("Parse(%q) error = %v, want ErrUnknownReason", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestUnknown(t *testing.T) {
	for _, code := range []int{-1, 0, 7, 8, 9, 10, 11} {
		if _, err := FromCode(code); !errors.Is(err, ErrUnknownReason) {
			t.Errorf("FromCode(%d) error = %v, want ErrUnknownReason", code, err)
		}
	}
	var r Reason = "bogus"
	if r.Valid() || r.Code() != -1 || r.Japanese() != "" || r.Validate() == nil {
		t.Errorf("bogus reason reported as known")
	}
}
