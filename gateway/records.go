package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/searchattr"
	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// checkDisclosed answers 4xx unless the disclosure a correction request
// names disclosed every serial it names to this person, and the
// correction period still runs. The disclosure's case answers from its own
// state; the records stay at the Organization.
func (s *Server) checkDisclosed(c *gin.Context, about workflows.AboutDisclosure) bool {
	number, resident, serials := about.Disclosure()
	// What the disclosure disclosed to this person is read: logged first,
	// with the disclosure's case (or its number as typed, when there is no
	// such case here).
	ref, logged, muni := "", number, currentClerk(c).MunicipalityCode
	if cs, err := s.db.Case(c, number); err == nil {
		muni = cs.MunicipalityCode
	} else if errors.Is(err, storage.ErrNotFound) {
		ref, logged = "disclosure_case:"+number, ""
	} else {
		s.failInternal(c, err)
		return false
	}
	if !s.recordRead(c, storage.AccessDisclosure, logged, muni, ref) {
		return false
	}
	v, err := s.temporal.QueryWorkflow(c, workflows.WorkflowID(contract.ProcDisclosure, number), "", workflows.DisclosedQuery,
		workflows.DisclosedQueryInput{ResidentCode: resident, Serials: serials})
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		fail(c, http.StatusNotFound, "unknown_disclosure", "この受付番号の開示はありません / There is no disclosure with this case number.")
		return false
	}
	if err != nil {
		s.failTemporal(c, err)
		return false
	}
	var res workflows.DisclosedQueryResult
	if err := v.Get(&res); err != nil {
		s.failInternal(c, err)
		return false
	}
	if res.Refusal != nil {
		fail(c, http.StatusUnprocessableEntity, res.Refusal.Code, res.Refusal.Message)
		return false
	}
	return true
}

// DeadlineRow is one open case with a legal deadline in the managers'
// list: no personal data.
type DeadlineRow struct {
	CaseNumber string    `json:"caseNumber"`
	Procedure  string    `json:"procedure"`
	Step       string    `json:"step"`
	Due        time.Time `json:"due"`
	Overdue    bool      `json:"overdue"`
}

// deadlines lists the office's open cases with a legal deadline in force
// (a disclosure's or correction's 30 days, 法第59条), soonest first, the
// overdue ones marked: one visibility query.
func (s *Server) deadlines(c *gin.Context) {
	clerk := currentClerk(c)
	rows, err := ListDeadlines(c, s.temporal, clerk.MunicipalityCode, s.now(), listLimit)
	if err != nil {
		s.failTemporal(c, err)
		return
	}
	if c.Query("overdue") == "1" {
		rows = slices.DeleteFunc(rows, func(r DeadlineRow) bool { return !r.Overdue })
	}
	c.JSON(http.StatusOK, gin.H{"deadlines": rows})
}

// ListDeadlines lists an office's open cases that have a deadline, soonest
// first, marking those whose deadline passed before now.
func ListDeadlines(ctx context.Context, tc Lister, office string, now time.Time, limit int) ([]DeadlineRow, error) {
	if !keywordRE.MatchString(office) {
		return nil, fmt.Errorf("gateway: bad list filter")
	}
	q := fmt.Sprintf("(%s = '%s' OR %s = '%s') AND %s = 'open' AND %s IS NOT NULL", searchattr.Municipality.GetName(), office,
		searchattr.Office.GetName(), office, searchattr.Status.GetName(), searchattr.Due.GetName())
	out := []DeadlineRow{}
	err := eachRow(ctx, tc, q, limit, func(e *workflowpb.WorkflowExecutionInfo) bool {
		f := e.GetSearchAttributes().GetIndexedFields()
		due, ok := searchattr.TimeOf(f, searchattr.Due)
		if ok {
			out = append(out, DeadlineRow{CaseNumber: searchattr.KeywordOf(f, searchattr.CaseNumber), Procedure: searchattr.KeywordOf(f, searchattr.Procedure),
				Step: searchattr.KeywordOf(f, searchattr.Step), Due: due, Overdue: !now.Before(due)})
		}
		return ok
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b DeadlineRow) int { return a.Due.Compare(b.Due) })
	return out, nil
}

// orgLetters are the Organization's records letters the operator prints,
// by their file name.
var orgLetters = map[string]string{
	"disclosure-notice.pdf": contract.LetterDisclosure,
	"extension-notice.pdf":  contract.LetterExtension,
	"correction-notice.pdf": contract.LetterCorrection,
}

// recordsLetter serves GET /api/cases/{case}/{disclosure|extension|correction}-notice.pdf
// to the Organization's operators: the letter its records case queued, as
// queued, to print and mail or hand over. It is read from the Organization's
// database through a look-up on the CA worker, and recorded in the access
// log as a disclosure read first.
func (s *Server) recordsLetter(file string) gin.HandlerFunc {
	letter := orgLetters[file]
	return func(c *gin.Context) {
		cs, ok := s.scopedCase(c)
		if !ok {
			return
		}
		if cs.Procedure != contract.ProcDisclosure && cs.Procedure != contract.ProcCorrection {
			fail(c, http.StatusNotFound, "no_letter", "この手続にはこの通知書がありません / This procedure has no such letter.")
			return
		}
		if !s.recordRead(c, storage.AccessDisclosure, cs.CaseNumber, cs.MunicipalityCode, "letter:"+letter) {
			return
		}
		res, err := workflows.FetchRecordsLetter(c, s.temporal, cs.CaseNumber, letter)
		if err != nil {
			s.failTemporal(c, err)
			return
		}
		if !res.Found {
			fail(c, http.StatusNotFound, "no_letter", "この通知書はまだ作成されていません / This letter has not been made yet.")
			return
		}
		c.Header("Content-Disposition", `inline; filename="`+strings.TrimSuffix(file, ".pdf")+"-"+cs.CaseNumber+`.pdf"`)
		c.Data(http.StatusOK, "application/pdf", res.PDF)
	}
}
