// Package cardagent is the counter terminal's agent (統合端末): a Temporal
// worker on the terminal's own task queue that drives the card reader over
// PC/SC and serves the touch panel on loopback. The terminal accepts no
// inbound connection from the network; PINs never leave it.
package cardagent

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"sync"

	"github.com/madoguchi/madoguchi/activities/terminal"
	"github.com/madoguchi/madoguchi/internal/pinrule"
)

//go:embed panel.html
var panelHTML embed.FS

// ErrPanelBusy is returned when the panel already asks for another case's PINs.
var ErrPanelBusy = errors.New("touch panel is busy with another procedure")

// Panel is the touch panel: the applicant types each new PIN twice (set and
// reset modes), or, in verify mode, the holder types the existing PIN once,
// or, in change mode, the current PIN once and the new one twice; the panel
// checks the PIN rules locally and hands the PINs to the waiting activity.
type Panel struct {
	mu      sync.Mutex
	pending *pinSession
}

type pinSession struct {
	id    string
	req   terminal.PINRequest
	pins  map[string][]byte
	ready chan struct{}
}

// NewPanel returns an idle panel.
func NewPanel() *Panel { return &Panel{} }

// Collect shows the request on the panel and waits until the applicant has
// entered every PIN, or ctx ends. The caller must wipe the returned PINs.
func (p *Panel) Collect(ctx context.Context, req terminal.PINRequest) (map[string][]byte, error) {
	idb := make([]byte, 8)
	if _, err := rand.Read(idb); err != nil {
		return nil, err
	}
	s := &pinSession{id: hex.EncodeToString(idb), req: req, pins: map[string][]byte{}, ready: make(chan struct{})}
	p.mu.Lock()
	if p.pending != nil && p.pending.req.CaseNumber != req.CaseNumber {
		p.mu.Unlock()
		return nil, ErrPanelBusy
	}
	// A retried activity for the same case replaces its earlier session.
	if p.pending != nil {
		p.pending.wipe()
	}
	p.pending = s
	p.mu.Unlock()

	select {
	case <-s.ready:
		p.mu.Lock()
		if p.pending == s {
			p.pending = nil
		}
		p.mu.Unlock()
		return s.pins, nil
	case <-ctx.Done():
		p.mu.Lock()
		if p.pending == s {
			p.pending = nil
			s.wipe()
		}
		p.mu.Unlock()
		return nil, ctx.Err()
	}
}

func (s *pinSession) wipe() {
	for _, b := range s.pins {
		clear(b)
	}
}

// The panel's modes, as GET /api/pending names them (terminal.PINRequest.Mode).
const (
	// ModeSet: new PINs are chosen, each typed twice.
	ModeSet = terminal.ModeSet
	// ModeVerify: the holder types the existing PIN once, for the card to verify.
	ModeVerify = terminal.ModeVerify
	// ModeChange: the holder types the current PIN once and the new one twice.
	ModeChange = terminal.ModeChange
	// ModeReset: new PINs typed twice, without the old ones (the PIN reset).
	ModeReset = terminal.ModeReset
)

// PendingResult is GET /api/pending: what the panel asks for now.
type PendingResult struct {
	Pending bool   `json:"pending"`
	ID      string `json:"id,omitempty"`
	// Mode is ModeSet, ModeVerify, ModeChange or ModeReset while a request is pending.
	Mode       string   `json:"mode,omitempty"`
	CaseNumber string   `json:"caseNumber,omitempty"`
	Kinds      []string `json:"kinds,omitempty"`
	Entered    []string `json:"entered,omitempty"`
	// EnteredBy is the clerk typing for the applicant, if any.
	EnteredBy string `json:"enteredBy,omitempty"`
	// TriesLeft is how many wrong entries the current PIN still tolerates
	// (verify and change modes), so the holder sees what a mistake costs.
	TriesLeft int `json:"triesLeft,omitempty"`
}

// EnterPINInput is POST /api/pin: one PIN, typed twice. In verify mode
// Confirm is not needed and, if sent, ignored: the card judges the PIN, and
// the panel's format check already spares a try on a slip of the finger. In
// change mode Current is the PIN in use and PIN, Confirm the new one.
type EnterPINInput struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Current string `json:"current,omitempty"`
	PIN     string `json:"pin"`
	Confirm string `json:"confirm,omitempty"`
}

// mode is the request's mode, ModeSet when none is named.
func (s *pinSession) mode() string {
	switch s.req.Mode {
	case ModeVerify, ModeChange, ModeReset:
		return s.req.Mode
	}
	return ModeSet
}

// complete reports whether every kind asked for has its PIN.
func (s *pinSession) complete() bool {
	for _, k := range s.req.Kinds {
		if _, ok := s.pins[k]; !ok {
			return false
		}
	}
	return true
}

// Handler serves the panel page and its API.
func (p *Panel) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := panelHTML.ReadFile("panel.html")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("GET /api/pending", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		res := PendingResult{}
		if s := p.pending; s != nil {
			res = PendingResult{Pending: true, ID: s.id, Mode: s.mode(), CaseNumber: s.req.CaseNumber, Kinds: s.req.Kinds,
				EnteredBy: s.req.EnteredBy, TriesLeft: s.req.TriesLeft}
			for _, k := range s.req.Kinds {
				if _, ok := s.pins[k]; ok {
					res.Entered = append(res.Entered, k)
				}
			}
		}
		writeJSON(w, http.StatusOK, res)
	})
	mux.HandleFunc("POST /api/pin", p.enterPIN)
	return loopbackOnly(mux)
}

func (p *Panel) enterPIN(w http.ResponseWriter, r *http.Request) {
	var in EnterPINInput
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "入力を読み取れませんでした / The entry could not be read."})
		return
	}
	pin, confirm, current := []byte(in.PIN), []byte(in.Confirm), []byte(in.Current)
	defer clear(confirm)
	// keptPIN and keptCurrent say which entries the session took over; the
	// rest (refused entries, a current PIN outside change mode) is wiped here.
	keptPIN, keptCurrent := false, false
	defer func() {
		if !keptPIN {
			clear(pin)
		}
		if !keptCurrent {
			clear(current)
		}
	}()
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.pending
	if s == nil || s.id != in.ID {
		writeJSON(w, http.StatusConflict, map[string]string{"error": "暗証番号の入力を求めていません / No PIN is being asked for."})
		return
	}
	if !slices.Contains(s.req.Kinds, in.Kind) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "この電子証明書の暗証番号は求めていません / This PIN is not asked for."})
		return
	}
	mode := s.mode()
	if mode == ModeChange {
		// The current PIN follows the same format rule: a slip costs no try either.
		if err := pinrule.Validate(pinrule.Kind(in.Kind), current); err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "現在の暗証番号 / Current PIN: " + err.Error()})
			return
		}
	}
	if err := pinrule.Validate(pinrule.Kind(in.Kind), pin); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": err.Error()})
		return
	}
	if mode != ModeVerify && string(pin) != string(confirm) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "確認のために入力した暗証番号が一致しません / The two entries differ."})
		return
	}
	if old, ok := s.pins[in.Kind]; ok {
		clear(old)
	}
	s.pins[in.Kind] = pin
	if mode == ModeChange {
		key := terminal.CurrentPINKey(in.Kind)
		if old, ok := s.pins[key]; ok {
			clear(old)
		}
		s.pins[key] = current
		keptCurrent = true
	}
	keptPIN = true
	if s.complete() {
		close(s.ready)
		p.pending = nil
	}
	w.WriteHeader(http.StatusNoContent)
}

// loopbackOnly refuses any caller not on this machine: the touch panel is
// part of the terminal, never a network service.
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
