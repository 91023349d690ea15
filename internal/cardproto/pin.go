package cardproto

import (
	"errors"
	"fmt"
)

// MaxPINLength is the longest PIN any PIN EF accepts (the signing PIN's 16).
const MaxPINLength = 16

// ErrInvalidPIN reports a PIN that breaks the rules of its kind. Its message
// never contains the PIN itself.
var ErrInvalidPIN = errors.New("cardproto: PIN does not meet the rules")

// ValidatePIN checks a PIN against the card's rules: a signing PIN is 6–16
// characters of A–Z and 0–9; a user-authentication PIN is exactly 4 digits.
func ValidatePIN(k Kind, pin []byte) error {
	switch k {
	case Signing:
		if len(pin) < 6 || len(pin) > 16 {
			return fmt.Errorf("%w: a signing PIN has 6 to 16 characters, got %d", ErrInvalidPIN, len(pin))
		}
		for _, c := range pin {
			if !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') {
				return fmt.Errorf("%w: a signing PIN uses only upper-case letters A-Z and digits 0-9", ErrInvalidPIN)
			}
		}
		return nil
	case UserAuth:
		if len(pin) != 4 {
			return fmt.Errorf("%w: a user-authentication PIN has exactly 4 digits, got %d characters", ErrInvalidPIN, len(pin))
		}
		for _, c := range pin {
			if c < '0' || c > '9' {
				return fmt.Errorf("%w: a user-authentication PIN uses only digits 0-9", ErrInvalidPIN)
			}
		}
		return nil
	}
	return fmt.Errorf("%w: unknown kind %v", ErrInvalidPIN, k)
}
