package gateway

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/madoguchi/madoguchi/contract"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
)

// apiError is the body of every error answer: a stable code for programs
// and a message a clerk understands. Internal error text never goes out.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field is the request's field the error is about (items.1.serial),
	// when a start request's check names one.
	Field string `json:"field,omitempty"`
}

func fail(c *gin.Context, status int, code, message string) {
	c.AbortWithStatusJSON(status, gin.H{"error": apiError{Code: code, Message: message}})
}

// failTemporal maps an error from Temporal to an answer. Update validator
// rejections and handler refusals carry messages written for clerks, and so
// do Rejected errors of activities; an activity's other errors (a database
// or HSM failure inside an update handler) may carry internal text, so they
// are logged and answered generically, like anything else.
func (s *Server) failTemporal(c *gin.Context, err error) {
	var appErr *temporal.ApplicationError
	var actErr *temporal.ActivityError
	var notFound *serviceerror.NotFound
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &actErr):
		if r, ok := contract.AsRejection(err); ok {
			fail(c, http.StatusConflict, "step_not_accepted", r.Message)
			return
		}
		s.log.Error("activity of a clerk's step failed", "path", c.FullPath(), "err", err)
		fail(c, http.StatusBadGateway, "backend_unavailable", "処理を完了できませんでした。しばらくしてから再度お試しください / The back office could not complete the request; try again shortly.")
	case errors.As(err, &appErr):
		fail(c, http.StatusConflict, "step_not_accepted", appErr.Message())
	case errors.As(err, &notFound):
		fail(c, http.StatusConflict, "procedure_finished", "この手続は既に終了しています / This procedure has already finished.")
	case errors.As(err, &already):
		fail(c, http.StatusConflict, "already_started", "この手続は既に開始されています / This procedure was already started.")
	default:
		s.log.Error("temporal call failed", "path", c.FullPath(), "err", err)
		fail(c, http.StatusBadGateway, "backend_unavailable", "処理を完了できませんでした。しばらくしてから再度お試しください / The back office could not complete the request; try again shortly.")
	}
}

func (s *Server) failInternal(c *gin.Context, err error) {
	s.log.Error("request failed", "path", c.FullPath(), "err", err)
	fail(c, http.StatusInternalServerError, "internal", "処理中に問題が発生しました / Something went wrong on our side.")
}
