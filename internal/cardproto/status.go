package cardproto

import "fmt"

// StatusWord is SW1 SW2 of a response APDU.
type StatusWord uint16

// Status words the JPKI card answers (ISO/IEC 7816-4 §5.6).
const (
	SWOK                     StatusWord = 0x9000
	SWAuthFailed             StatusWord = 0x6300 // EXTERNAL AUTHENTICATE: the signature does not verify
	SWBytesRemaining         StatusWord = 0x6100 // 61xx: xx more bytes wait for GET RESPONSE (00 = 256 or more)
	SWMemoryFailure          StatusWord = 0x6581
	SWWrongLength            StatusWord = 0x6700
	SWLogicalChannel         StatusWord = 0x6881
	SWSecureMessaging        StatusWord = 0x6882
	SWLastCommandExpected    StatusWord = 0x6883
	SWChainingNotSupported   StatusWord = 0x6884
	SWIncompatibleFile       StatusWord = 0x6981
	SWSecurityNotSatisfied   StatusWord = 0x6982
	SWAuthMethodBlocked      StatusWord = 0x6983
	SWReferenceDataNotUsable StatusWord = 0x6984
	SWConditionsNotSatisfied StatusWord = 0x6985
	SWNoCurrentEF            StatusWord = 0x6986
	SWWrongData              StatusWord = 0x6A80
	SWFuncNotSupported       StatusWord = 0x6A81
	SWFileNotFound           StatusWord = 0x6A82
	SWNotEnoughMemory        StatusWord = 0x6A84
	SWIncorrectP1P2          StatusWord = 0x6A86
	SWReferencedDataNotFound StatusWord = 0x6A88
	SWWrongP1P2              StatusWord = 0x6B00
	SWWrongLe                StatusWord = 0x6C00 // 6Cxx: repeat with Le = xx
	SWINSNotSupported        StatusWord = 0x6D00
	SWCLANotSupported        StatusWord = 0x6E00
	SWNoPreciseDiagnosis     StatusWord = 0x6F00
	SWVerifyFailed           StatusWord = 0x63C0 // 63Cx: wrong PIN (or retry query), x tries left
)

// SW1 returns the first status byte.
func (sw StatusWord) SW1() byte { return byte(sw >> 8) }

// SW2 returns the second status byte.
func (sw StatusWord) SW2() byte { return byte(sw) }

// OK reports 90 00.
func (sw StatusWord) OK() bool { return sw == SWOK }

// RetryCounter returns x for a 63 Cx status word.
func (sw StatusWord) RetryCounter() (int, bool) {
	if sw&0xFFF0 == SWVerifyFailed {
		return int(sw & 0x0F), true
	}
	return 0, false
}

// Remaining returns the number of bytes a 61 xx status word announces (xx = 00 means 256).
func (sw StatusWord) Remaining() (int, bool) {
	if sw.SW1() != 0x61 {
		return 0, false
	}
	if sw.SW2() == 0 {
		return MaxShortNe, true
	}
	return int(sw.SW2()), true
}

// CorrectLe returns xx for a 6C xx status word (xx = 00 means 256).
func (sw StatusWord) CorrectLe() (int, bool) {
	if sw.SW1() != 0x6C {
		return 0, false
	}
	if sw.SW2() == 0 {
		return MaxShortNe, true
	}
	return int(sw.SW2()), true
}

// RetriesSW returns 63 Cx for x tries left (x is clamped to 0..15).
func RetriesSW(left int) StatusWord {
	left = max(0, min(left, 15))
	return SWVerifyFailed | StatusWord(left)
}

var swText = map[StatusWord]string{
	SWOK:                     "success",
	SWAuthFailed:             "authentication failed",
	SWMemoryFailure:          "memory failure",
	SWWrongLength:            "wrong length",
	SWLogicalChannel:         "logical channel not supported",
	SWSecureMessaging:        "secure messaging not supported",
	SWLastCommandExpected:    "last command of the chain expected",
	SWChainingNotSupported:   "command chaining not supported",
	SWIncompatibleFile:       "command incompatible with file structure",
	SWSecurityNotSatisfied:   "security status not satisfied",
	SWAuthMethodBlocked:      "authentication method blocked",
	SWReferenceDataNotUsable: "reference data not usable",
	SWConditionsNotSatisfied: "conditions of use not satisfied",
	SWNoCurrentEF:            "command not allowed (no suitable current EF)",
	SWWrongData:              "incorrect data",
	SWFuncNotSupported:       "function not supported",
	SWFileNotFound:           "file or application not found",
	SWNotEnoughMemory:        "not enough memory",
	SWIncorrectP1P2:          "incorrect P1 P2",
	SWReferencedDataNotFound: "referenced data not found",
	SWWrongP1P2:              "wrong parameters P1 P2",
	SWINSNotSupported:        "instruction not supported",
	SWCLANotSupported:        "class not supported",
	SWNoPreciseDiagnosis:     "no precise diagnosis",
}

// String renders the status word as hex with its ISO meaning.
func (sw StatusWord) String() string {
	if t, ok := swText[sw]; ok {
		return fmt.Sprintf("%04X (%s)", uint16(sw), t)
	}
	if n, ok := sw.RetryCounter(); ok {
		return fmt.Sprintf("%04X (verification failed, %d tries left)", uint16(sw), n)
	}
	if n, ok := sw.Remaining(); ok {
		return fmt.Sprintf("%04X (%d bytes remaining)", uint16(sw), n)
	}
	if n, ok := sw.CorrectLe(); ok {
		return fmt.Sprintf("%04X (wrong Le, use %d)", uint16(sw), n)
	}
	return fmt.Sprintf("%04X", uint16(sw))
}

// StatusError is a response whose status word is not 90 00. It carries no
// command data, so an error from a VERIFY never contains the PIN.
type StatusError struct {
	// Op names the command that failed, e.g. "VERIFY".
	Op string
	SW StatusWord
}

// Error implements error.
func (e *StatusError) Error() string {
	if e.Op == "" {
		return "card answered " + e.SW.String()
	}
	return e.Op + ": card answered " + e.SW.String()
}

// Is lets errors.Is(err, &StatusError{SW: x}) match on the status word alone.
func (e *StatusError) Is(target error) bool {
	t, ok := target.(*StatusError)
	if !ok {
		return false
	}
	return t.SW == e.SW && (t.Op == "" || t.Op == e.Op)
}
