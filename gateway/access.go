package gateway

import (
	"github.com/gin-gonic/gin"

	"github.com/madoguchi/madoguchi/internal/storage"
)

// The access log (第3 8 秘密の保持): every read of personal data through the
// gateway is recorded before its answer: who (the staff login and id),
// what (a kind, a case number, a reference — never a resident code or a
// name), when, and from which office. A read that cannot be recorded is
// not answered. Auditors search the log at GET /api/access-log.
//
// What is recorded, by kind:
//   - history: GET /api/cases/{case}/history (history.go);
//   - register_record: a start's register check of the resident it names,
//     with the case it opened ("start_check"), or, when the check refused
//     the start before any case existed, no case and "start:<procedure>:
//     <refusal code>"; a letter printed from the register
//     ("revocation_notice", "inquiry_letter");
//   - disclosure: a correction request's check of what a disclosure
//     disclosed, with the disclosure's case.

// registerReadKey marks a request whose handler read a resident's register
// record; open records it with the case it opened.
const registerReadKey = "madoguchi.registerRead"

// markRegisterRead notes that the request read a register record.
func markRegisterRead(c *gin.Context) { c.Set(registerReadKey, true) }

// recordRead appends a read to the access log; when it cannot, it answers
// 500 itself and returns false, and nothing must be shown.
func (s *Server) recordRead(c *gin.Context, kind, caseNumber, municipality, reference string) bool {
	clerk := currentClerk(c)
	if err := s.db.RecordHistoryAccess(c, storage.HistoryAccess{ClerkID: clerk.ID, ClerkLogin: clerk.Login, Office: clerk.MunicipalityCode,
		Kind: kind, CaseNumber: caseNumber, Reference: reference, Municipality: municipality, At: s.now()}); err != nil {
		s.failInternal(c, err)
		return false
	}
	return true
}

// refusedRead records the register read of a start the register check
// refused before any case existed, under the clerk's own office; false
// when it could not be recorded (answered 500).
func (s *Server) refusedRead(c *gin.Context, code string) bool {
	return s.recordRead(c, storage.AccessRegisterRecord, "", currentClerk(c).MunicipalityCode, "start:"+c.Param("procedure")+":"+code)
}

// failRegisterCheck answers a start the register check refused, once the
// read is recorded.
func (s *Server) failRegisterCheck(c *gin.Context, status int, code, msg string) {
	if s.refusedRead(c, code) {
		fail(c, status, code, msg)
	}
}
