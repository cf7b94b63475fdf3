package handlers

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

// historyWait bounds a read of the journal for a page or an answer: a slow database costs the
// history section, never the page.
const historyWait = 2 * time.Second

// historyPageLimit is the most events a lineage page lists.
const historyPageLimit = 100

// historyJSON is the answer of GET /api/v1/batches/{id}/history.
type historyJSON struct {
	BatchID string `json:"batch_id"`
	Since   string `json:"since,omitempty"` // the ?since= asked, YYYY-MM-DD
	// Events are newest first. The registry keeps no history: each change happened at or
	// before its observed_at, after the observation before it.
	Events []historyEventJSON `json:"events"`
}

// historyEventJSON is one observed change. Kg are JSON integers.
type historyEventJSON struct {
	Kind     string `json:"kind"` // first_seen, status, owner, beneficiary, retirement, children, kg
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	FromName string `json:"from_name,omitempty"` // the organisation From names
	ToName   string `json:"to_name,omitempty"`   // the organisation To names; for a retirement, the beneficiary
	FromKg   *int64 `json:"from_kg,omitempty"`   // for kind kg
	ToKg     *int64 `json:"to_kg,omitempty"`     // for kind kg
	// CreditKgs is the batch's size when the change was observed.
	CreditKgs  int64  `json:"credit_kgs"`
	ObservedAt string `json:"observed_at"`             // RFC 3339, UTC
	RegistryAt string `json:"registry_time,omitempty"` // the record's own time (retired_at, delivered_at), RFC 3339
}

// batchHistoryJSON is GET /api/v1/batches/{id}/history?since=YYYY-MM-DD: the changes of one
// batch the explorer has observed, newest first. The batch is read through the cache first
// (GET /credit_batches/{id} on a miss), so an unknown batch is a 404 and a known one is
// observed.
func (s *server) batchHistoryJSON(c *gin.Context) error {
	id, err := registry.CanonicalID(registry.PrefixCreditBatch, c.Param("id"))
	if err != nil {
		return &lookupError{what: "credit batch", value: c.Param("id"), err: err}
	}
	var since time.Time
	sinceText := strings.TrimSpace(c.Query("since"))
	if sinceText != "" {
		if since, err = time.Parse("2006-01-02", sinceText); err != nil {
			s.writeJSON(c, http.StatusBadRequest, apiError{Status: http.StatusBadRequest, Code: "invalid",
				Error: "since must be a date such as 2026-10-01", What: "since", Value: sinceText, Hint: "YYYY-MM-DD"})
			return nil
		}
	}
	if s.history == nil {
		s.writeJSON(c, http.StatusNotFound, apiError{Status: http.StatusNotFound, Code: "not_found",
			Error: "this explorer keeps no history", What: "history", Value: id})
		return nil
	}
	if _, err := s.explorer.CreditBatch(c.Request.Context(), id); err != nil {
		return &lookupError{what: "credit batch", value: id, err: err}
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), historyWait)
	defer cancel()
	evs, err := s.history.Events(ctx, []string{id}, since, 0)
	if err != nil {
		s.log.Warn("history unavailable", "batch", id, "err", err)
		s.writeJSON(c, http.StatusServiceUnavailable, apiError{Status: http.StatusServiceUnavailable, Code: "unavailable",
			Error: "the history cannot be read just now; the other routes are not affected", What: "history", Value: id, Retry: true})
		return nil
	}
	out := historyJSON{BatchID: id, Since: sinceText, Events: make([]historyEventJSON, 0, len(evs))}
	for _, e := range evs {
		j := historyEventJSON{Kind: e.Kind, From: e.From, To: e.To, FromName: e.FromLabel, ToName: e.ToLabel,
			CreditKgs: e.Kg, ObservedAt: e.ObservedAt.UTC().Format(time.RFC3339)}
		if e.Kind == history.KindKg {
			from, to := e.FromKg(), e.ToKg()
			j.From, j.To, j.FromKg, j.ToKg = "", "", &from, &to
		}
		if !e.RegistryTime.IsZero() {
			j.RegistryAt = e.RegistryTime.UTC().Format(time.RFC3339)
		}
		out.Events = append(out.Events, j)
	}
	c.Header("Cache-Control", "no-store")
	s.writeJSON(c, http.StatusOK, out)
	return nil
}

// treeHistory reads the observed changes of every batch of tree for its lineage page; when the
// journal cannot be read the section says so (and the journal's generation changes once it
// works again, so the page is not kept that way).
func (s *server) treeHistory(ctx context.Context, tree *lineage.Tree) views.HistoryView {
	if s.history == nil {
		return views.HistoryView{}
	}
	v := views.HistoryView{Kept: true, JSONURL: views.HistoryJSONURL(tree.Target.ID)}
	ids := make([]string, 0, len(tree.Nodes))
	for id := range tree.Nodes {
		ids = append(ids, id)
	}
	ctx, cancel := context.WithTimeout(ctx, historyWait)
	defer cancel()
	evs, err := s.history.Events(ctx, ids, time.Time{}, historyPageLimit+1)
	if err != nil {
		s.log.Warn("history unavailable", "batch", tree.Target.ID, "err", err)
		v.Unavailable = true
		return v
	}
	if len(evs) > historyPageLimit {
		evs, v.More = evs[:historyPageLimit], true
	}
	v.Events = historyEvents(evs)
	return v
}

// historyEvents is evs for a page, each change said once: a split by its children ("split
// into … and …") rather than again by its status, a retirement by "retired for … on …" rather
// than again by its new beneficiary and retirement record.
func historyEvents(evs []history.Event) []views.HistoryEvent {
	type seen struct {
		batch string
		at    time.Time
	}
	splitBy, retiredAt := map[string]bool{}, map[seen]bool{}
	for _, e := range evs {
		switch {
		case e.Kind == history.KindChildren && e.To != "":
			splitBy[e.BatchID] = true
		case e.Kind == history.KindStatus && e.To == string(registry.StatusRetired):
			retiredAt[seen{e.BatchID, e.ObservedAt}] = true
		}
	}
	out := make([]views.HistoryEvent, 0, len(evs))
	for _, e := range evs {
		switch {
		case e.Kind == history.KindStatus && e.To == string(registry.StatusSplit) && splitBy[e.BatchID],
			(e.Kind == history.KindBeneficiary || e.Kind == history.KindRetirement) && e.From == "" && retiredAt[seen{e.BatchID, e.ObservedAt}]:
			continue
		}
		v := views.HistoryEvent{BatchID: e.BatchID, Kind: views.HistoryKind(e.Kind), From: e.From, To: e.To,
			FromName: e.FromLabel, ToName: e.ToLabel, ToKg: e.Kg, Observed: e.ObservedAt, Registry: e.RegistryTime}
		if e.Kind == history.KindKg {
			v.FromKg, v.ToKg = e.FromKg(), e.ToKg()
		}
		out = append(out, v)
	}
	return out
}

// historyHealth is the journal's line of /readyz ("" when none is kept).
func (s *server) historyHealth(ctx context.Context) string {
	if s.history == nil {
		return ""
	}
	if err := s.history.Health(ctx); err != nil {
		return "history: degraded: " + err.Error() + "\n"
	}
	return "history: ok\n"
}
