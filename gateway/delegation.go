package gateway

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// Delegations (第2 5 規則65–69, 第2 6 郵便局事務取扱法) are recorded records,
// not workflows: a delegation is a standing arrangement between two offices,
// not a case of one person, and every start consults it at once. Each of
// its procedures (delegate, notify, end) is a dated event in the
// delegation_events table, and its state is shown by GET /api/delegations.

// caseMunicipality decides whose case a start opens, before anything is
// recorded: the clerk's own municipality's, or, under a delegation active
// today that covers the procedure, the resident's address municipality's.
// Every start of a procedure about one resident comes through here (the
// issuance family's readers and the catalog's), so a post office or a
// delegated municipality acts for another only as its delegation allows.
// It answers the refusal itself and returns false.
func (s *Server) caseMunicipality(c *gin.Context, p workflows.Procedure, residentCode string) (string, bool) {
	clerk := currentClerk(c)
	post := clerk.OfficeKind == workflows.OfficePostOffice
	if !post && clerk.OfficeKind != workflows.OfficeMunicipality {
		return clerk.MunicipalityCode, true
	}
	r, err := s.db.Resident(c, residentCode)
	markRegisterRead(c)
	switch {
	case errors.Is(err, storage.ErrNotFound) && !post:
		// The procedure's own register check (or the holder check) refuses it.
		return clerk.MunicipalityCode, true
	case errors.Is(err, storage.ErrNotFound):
		s.failRegisterCheck(c, http.StatusNotFound, "not_in_register", "住民基本台帳に該当する住民票コードがありません / No resident with this resident code is in the register.")
		return "", false
	case err != nil:
		s.failInternal(c, err)
		return "", false
	case r.MunicipalityCode == clerk.MunicipalityCode:
		return clerk.MunicipalityCode, true
	}
	ended := false
	if p.Delegable {
		ds, err := s.db.DelegationsBetween(c, r.MunicipalityCode, clerk.MunicipalityCode)
		if err != nil {
			s.failInternal(c, err)
			return "", false
		}
		today := storage.Day(s.now())
		for _, d := range ds {
			if !slices.Contains(d.Procedures, p.Name) {
				continue
			}
			if d.ActiveOn(today) {
				return r.MunicipalityCode, true
			}
			ended = ended || (d.EndsOn != nil && !today.Before(*d.EndsOn))
		}
	}
	if ended {
		s.failRegisterCheck(c, http.StatusForbidden, "delegation_ended", "この住民の市区町村からの事務の委任は終了しています / The delegation from this resident's municipality has ended; the applicant must apply at the municipality.")
		return "", false
	}
	if !post {
		// Never delegated: the municipality's own case, which the register
		// check refuses for another municipality's resident, as before.
		return clerk.MunicipalityCode, true
	}
	s.failRegisterCheck(c, http.StatusForbidden, "outside_delegation", "この手続はこの住民の市区町村から委任されていません / This office has no delegation for this procedure from this resident's municipality.")
	return "", false
}

// DelegationInput is the body of POST /api/delegations.
type DelegationInput struct {
	// Office is the delegate office's code: a post office or another municipality.
	Office     string   `json:"office"`
	Procedures []string `json:"procedures"`
	StartsOn   string   `json:"startsOn"`
	// EndsOn is the first day it no longer applies (optional).
	EndsOn string `json:"endsOn"`
}

// DelegationDateInput is the body of the notice and end of a delegation.
type DelegationDateInput struct {
	On string `json:"on"`
}

// DelegationView is a delegation as a manager sees it.
type DelegationView struct {
	ID           int64    `json:"id"`
	Manual       string   `json:"manual"`
	Municipality string   `json:"municipality"`
	Office       string   `json:"office"`
	OfficeKind   string   `json:"officeKind"`
	OfficeName   string   `json:"officeName"`
	Procedures   []string `json:"procedures"`
	StartsOn     string   `json:"startsOn"`
	EndsOn       string   `json:"endsOn,omitempty"`
	NotifiedOn   string   `json:"notifiedOn,omitempty"`
	// State is scheduled, active or ended, today.
	State string `json:"state"`
}

func (s *Server) viewDelegation(d storage.Delegation) DelegationView {
	v := DelegationView{ID: d.ID, Manual: "第2 5", Municipality: d.Municipality, Office: d.Office, OfficeKind: d.OfficeKind,
		OfficeName: d.OfficeName, Procedures: d.Procedures, StartsOn: d.StartsOn.Format(time.DateOnly), State: "active"}
	if d.OfficeKind == workflows.OfficePostOffice {
		v.Manual = "第2 6"
	}
	if d.EndsOn != nil {
		v.EndsOn = d.EndsOn.Format(time.DateOnly)
	}
	if d.NotifiedOn != nil {
		v.NotifiedOn = d.NotifiedOn.Format(time.DateOnly)
	}
	today := storage.Day(s.now())
	switch {
	case today.Before(d.StartsOn) && (d.EndsOn == nil || d.StartsOn.Before(*d.EndsOn)):
		v.State = "scheduled"
	case !d.ActiveOn(today):
		v.State = "ended"
	}
	return v
}

func parseDay(s string) (time.Time, bool) {
	if !dateRE.MatchString(s) {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

func failBadDate(c *gin.Context) {
	fail(c, http.StatusBadRequest, "bad_date", "日付は YYYY-MM-DD の形式で入力してください / Enter dates as YYYY-MM-DD.")
}

// listDelegations serves GET /api/delegations: the delegations the clerk's
// office is party to, as the delegating municipality or as the delegate.
func (s *Server) listDelegations(c *gin.Context) {
	ds, err := s.db.Delegations(c, currentClerk(c).MunicipalityCode)
	if err != nil {
		s.failInternal(c, err)
		return
	}
	out := make([]DelegationView, 0, len(ds))
	for _, d := range ds {
		out = append(out, s.viewDelegation(d))
	}
	c.JSON(http.StatusOK, gin.H{"delegations": out})
}

// createDelegation serves POST /api/delegations: the delegating
// municipality's manager records a delegation (規則65; 郵便局事務取扱法第2条).
func (s *Server) createDelegation(c *gin.Context) {
	clerk := currentClerk(c)
	if clerk.OfficeKind != workflows.OfficeMunicipality {
		fail(c, http.StatusForbidden, "not_permitted", "事務の委任は市区町村の管理者が記録します / Only a municipality's manager records a delegation.")
		return
	}
	var in DelegationInput
	if err := c.ShouldBindJSON(&in); err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "委任の内容を読み取れませんでした / The delegation could not be read.")
		return
	}
	start, ok := parseDay(in.StartsOn)
	if !ok {
		failBadDate(c)
		return
	}
	var end *time.Time
	if in.EndsOn != "" {
		e, ok := parseDay(in.EndsOn)
		if !ok {
			failBadDate(c)
			return
		}
		if !start.Before(e) {
			fail(c, http.StatusBadRequest, "ends_before_start", "委任の終了日は開始日より後の日にしてください / The delegation must end after it starts.")
			return
		}
		end = &e
	}
	if in.Office == clerk.MunicipalityCode || !keywordRE.MatchString(in.Office) {
		fail(c, http.StatusBadRequest, "bad_office", "委任先の窓口（郵便局または他の市区町村）のコードを入力してください / Enter the code of the delegate office (a post office or another municipality).")
		return
	}
	kind, name, err := s.db.Office(c, in.Office)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && kind != workflows.OfficePostOffice && kind != workflows.OfficeMunicipality) {
		fail(c, http.StatusBadRequest, "bad_office", "委任先の窓口（郵便局または他の市区町村）のコードを入力してください / Enter the code of the delegate office (a post office or another municipality).")
		return
	}
	if err != nil {
		s.failInternal(c, err)
		return
	}
	if len(in.Procedures) == 0 {
		fail(c, http.StatusBadRequest, "procedure_not_delegable", "委任する手続を選んでください / Choose the procedures to delegate.")
		return
	}
	for _, name := range in.Procedures {
		p, ok := workflows.Lookup(name)
		if !ok || !p.Delegable || !slices.Contains(p.StartOffices, kind) {
			fail(c, http.StatusBadRequest, "procedure_not_delegable", "この手続はこの窓口に委任できません / This procedure cannot be delegated to this office: "+name)
			return
		}
	}
	d := storage.Delegation{Municipality: clerk.MunicipalityCode, Office: in.Office, OfficeKind: kind, OfficeName: name,
		Procedures: slices.Compact(slices.Sorted(slices.Values(in.Procedures))), StartsOn: start, EndsOn: end}
	id, err := s.db.CreateDelegation(c, d, clerk.ID, s.now())
	if errors.Is(err, storage.ErrDelegationOverlap) {
		fail(c, http.StatusConflict, "delegation_overlap", "同じ窓口への委任が期間の一部で既にあります / A delegation to this office already covers part of this period.")
		return
	}
	if err != nil {
		s.failInternal(c, err)
		return
	}
	d.ID = id
	c.JSON(http.StatusCreated, s.viewDelegation(d))
}

// ownDelegation loads the delegation of the path for its delegating
// municipality's manager, and reads the day of the body.
func (s *Server) ownDelegation(c *gin.Context) (storage.Delegation, time.Time, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		fail(c, http.StatusNotFound, "unknown_delegation", "この委任は記録されていません / No such delegation is recorded.")
		return storage.Delegation{}, time.Time{}, false
	}
	d, err := s.db.Delegation(c, id)
	if errors.Is(err, storage.ErrNotFound) {
		fail(c, http.StatusNotFound, "unknown_delegation", "この委任は記録されていません / No such delegation is recorded.")
		return d, time.Time{}, false
	}
	if err != nil {
		s.failInternal(c, err)
		return d, time.Time{}, false
	}
	if d.Municipality != currentClerk(c).MunicipalityCode {
		fail(c, http.StatusForbidden, "other_municipality", "委任した市区町村の管理者だけが記録できます / Only the delegating municipality's manager records this.")
		return d, time.Time{}, false
	}
	var in DelegationDateInput
	if err := c.ShouldBindJSON(&in); err != nil {
		failBadDate(c)
		return d, time.Time{}, false
	}
	on, ok := parseDay(in.On)
	if !ok {
		failBadDate(c)
		return d, time.Time{}, false
	}
	return d, on, true
}

// notifyDelegation serves POST /api/delegations/{id}/notice: the notice of
// a municipal delegation to the Organization (規則66), with its day.
func (s *Server) notifyDelegation(c *gin.Context) {
	d, on, ok := s.ownDelegation(c)
	if !ok {
		return
	}
	if d.OfficeKind != workflows.OfficeMunicipality {
		fail(c, http.StatusBadRequest, "notice_not_applicable", "機構への通知（規則第66条）は他の市区町村への委任について行います / The notice to the Organization (規則66) is for a delegation to another municipality.")
		return
	}
	if err := s.db.NotifyDelegation(c, d.ID, on, currentClerk(c).ID, s.now()); err != nil {
		if errors.Is(err, storage.ErrDelegationRecorded) {
			fail(c, http.StatusConflict, "already_notified", "この委任の通知は既に記録されています / The notice of this delegation is already recorded.")
			return
		}
		s.failInternal(c, err)
		return
	}
	d.NotifiedOn = &on
	c.JSON(http.StatusOK, s.viewDelegation(d))
}

// endDelegation serves POST /api/delegations/{id}/end: the end of a
// delegation (規則68). From its day on no new case starts under it; cases
// started before finish under it (README, "Delegations").
func (s *Server) endDelegation(c *gin.Context) {
	d, on, ok := s.ownDelegation(c)
	if !ok {
		return
	}
	switch {
	case d.Ended:
		fail(c, http.StatusConflict, "already_ended", "この委任の終了は既に記録されています / The end of this delegation is already recorded.")
		return
	case on.Before(storage.Day(s.now())):
		fail(c, http.StatusBadRequest, "end_in_past", "委任の終了日は今日以降の日にしてください / The end of a delegation cannot be in the past.")
		return
	case on.Before(d.StartsOn):
		fail(c, http.StatusBadRequest, "ends_before_start", "委任の終了日は開始日以降の日にしてください / The delegation cannot end before it starts.")
		return
	case d.EndsOn != nil && d.EndsOn.Before(on):
		fail(c, http.StatusBadRequest, "end_after_planned", "委任は予定の終了日より後に終了できません / The delegation already ends earlier.")
		return
	}
	if err := s.db.EndDelegation(c, d.ID, on, currentClerk(c).ID, s.now()); err != nil {
		if errors.Is(err, storage.ErrDelegationRecorded) {
			fail(c, http.StatusConflict, "already_ended", "この委任の終了は既に記録されています / The end of this delegation is already recorded.")
			return
		}
		s.failInternal(c, err)
		return
	}
	d.EndsOn, d.Ended = &on, true
	c.JSON(http.StatusOK, s.viewDelegation(d))
}
