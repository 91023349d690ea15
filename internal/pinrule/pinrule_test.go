package pinrule

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateSigning(t *testing.T) {
	tests := []struct {
		name string
		pin  string
		want error // nil for accepted
	}{
		{"6 upper-case letters and digits", "ABC123", nil},
		{"16 characters", "ABCDEFGH12345678", nil},
		{"digits only", "123456", nil},
		{"letters only", "ZZZZZZ", nil},
		{"all letters and digits range ends", "A0Z9AZ09", nil},
		{"empty", "", ErrTooShort},
		{"5 characters", "ABC12", ErrTooShort},
		{"17 characters", "ABCDEFGH123456789", ErrTooLong},
		{"lower case", "abc123", ErrLowerCase},
		{"one lower-case letter", "ABCd12", ErrLowerCase},
		{"full-width digits", "ＡＢＣ１２３", ErrFullWidth},
		{"full-width digit among ASCII", "ABC12３", ErrFullWidth},
		{"kana", "アイウ123", ErrFullWidth},
		{"ideographic space", "ABC\u3000123", ErrFullWidth},
		{"space", "ABC 123", ErrInvalidChar},
		{"hyphen", "ABC-123", ErrInvalidChar},
		{"underscore", "ABC_123", ErrInvalidChar},
		{"at sign (just before A)", "@ABC123", ErrInvalidChar},
		{"bracket (just after Z)", "ABC123[", ErrInvalidChar},
		{"slash (just before 0)", "/ABC123", ErrInvalidChar},
		{"colon (just after 9)", "ABC123:", ErrInvalidChar},
		{"trailing newline", "ABC123\n", ErrInvalidChar},
		{"NUL", "ABC\x00123", ErrInvalidChar},
		{"lower case and too short: character first", "abc", ErrLowerCase},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateSigning([]byte(tc.pin))
			checkErr(t, err, tc.want, Signing, tc.pin)
			if err2 := Validate(Signing, []byte(tc.pin)); (err2 == nil) != (err == nil) || (err != nil && err2.Error() != err.Error()) {
				t.Errorf("Validate(Signing) = %v, ValidateSigning = %v", err2, err)
			}
		})
	}
}

func TestValidateUserAuth(t *testing.T) {
	tests := []struct {
		name string
		pin  string
		want error
	}{
		{"4 digits", "1234", nil},
		{"zeros", "0000", nil},
		{"nines", "9999", nil},
		{"empty", "", ErrWrongLength},
		{"3 digits", "123", ErrWrongLength},
		{"5 digits", "12345", ErrWrongLength},
		{"6 digits", "123456", ErrWrongLength},
		{"upper-case letter", "12A4", ErrNotDigit},
		{"lower-case letter", "12a4", ErrNotDigit},
		{"full-width digits", "１２３４", ErrFullWidth},
		{"one full-width digit", "123４", ErrFullWidth},
		{"space", "12 4", ErrInvalidChar},
		{"symbol", "12#4", ErrInvalidChar},
		{"slash (just before 0)", "/123", ErrInvalidChar},
		{"colon (just after 9)", "123:", ErrInvalidChar},
		{"trailing newline", "1234\n", ErrInvalidChar},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateUserAuth([]byte(tc.pin))
			checkErr(t, err, tc.want, UserAuth, tc.pin)
			if err2 := Validate(UserAuth, []byte(tc.pin)); (err2 == nil) != (err == nil) {
				t.Errorf("Validate(UserAuth) = %v, ValidateUserAuth = %v", err2, err)
			}
		})
	}
}

// checkErr asserts the reason and kind, and that no message leaks the PIN.
func checkErr(t *testing.T, err, want error, kind Kind, pin string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
	var pe *PINError
	if !errors.As(err, &pe) || pe.Kind != kind {
		t.Fatalf("error %#v is not a *PINError of kind %s", err, kind)
	}
	if !errors.Is(err, &PINError{Kind: kind, Reason: pe.Reason}) {
		t.Error("Is with matching kind failed")
	}
	other := UserAuth
	if kind == UserAuth {
		other = Signing
	}
	if errors.Is(err, &PINError{Kind: other, Reason: pe.Reason}) {
		t.Error("Is matched the other kind")
	}
	msg := err.Error()
	if !strings.Contains(msg, " / ") || pe.Japanese() == "" || pe.English() == "" {
		t.Errorf("message should be bilingual: %q", msg)
	}
	if strings.Contains(msg, "規則に合いません") || strings.Contains(msg, "does not meet the rules") {
		t.Errorf("reason %s has no specific message: %q", pe.Reason, msg)
	}
	if len(pin) >= 3 && strings.Contains(msg, pin) {
		t.Errorf("message contains the PIN: %q", msg)
	}
	// No fragment of 3 or more PIN characters may appear either.
	for i := 0; i+3 <= len(pin); i++ {
		if frag := pin[i : i+3]; strings.TrimSpace(frag) == frag && strings.Contains(msg, frag) {
			t.Errorf("message contains PIN fragment %q: %q", frag, msg)
		}
	}
}

func TestMessagesNeverEchoInput(t *testing.T) {
	// A PIN that is also a plausible word must not show up in any message.
	for _, pin := range []string{"SECRET", "SECRETPIN9999999X", "secret", "SECRET!", "9876", "98765", "9x76"} {
		for _, k := range []Kind{Signing, UserAuth, "bogus"} {
			err := Validate(k, []byte(pin))
			if err == nil {
				continue
			}
			if strings.Contains(strings.ToUpper(err.Error()), strings.ToUpper(pin)) {
				t.Errorf("Validate(%s) message contains the PIN: %q", k, err)
			}
		}
	}
}

func TestUnknownKind(t *testing.T) {
	err := Validate("sign ", []byte("ABC123"))
	if !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("error = %v", err)
	}
	if Kind("x").Valid() || !Signing.Valid() || !UserAuth.Valid() {
		t.Error("Kind.Valid")
	}
}

func TestMaxTries(t *testing.T) {
	tests := []struct {
		kind Kind
		want int
	}{{Signing, 5}, {UserAuth, 3}, {"", 0}, {"other", 0}}
	for _, tc := range tests {
		if got := MaxTries(tc.kind); got != tc.want {
			t.Errorf("MaxTries(%q) = %d, want %d", tc.kind, got, tc.want)
		}
	}
}

func TestZero(t *testing.T) {
	b := []byte("ABC123")
	Zero(b)
	for i, c := range b {
		if c != 0 {
			t.Fatalf("byte %d not wiped", i)
		}
	}
	// A sub-slice wipes only its own window, which is how callers zero a copy.
	buf := []byte("1234XYZ")
	Zero(buf[:4])
	if string(buf[4:]) != "XYZ" || buf[0] != 0 || buf[3] != 0 {
		t.Errorf("sub-slice wipe = %q", buf)
	}
	Zero(nil) // must not panic
}
