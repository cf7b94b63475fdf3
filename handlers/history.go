package handlers

import (
	"context"
	"net/http"
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
	// Recorded says whether the journal holds a record of the batch. When false, an empty
	// Events means "nothing known", not "nothing happened": Gap says why.
	Recorded bool `json:"recorded"`
	// RecordedAt is when the state the journal holds was observed (RFC 3339, UTC).
	RecordedAt string `json:"recorded_at,omitempty"`
	// Gap is why the batch is not recorded, or (Recorded true) why a later observation is not
	// and a change may be missing from Events; absent when the record is whole.
	Gap *historyGapJSON `json:"gap,omitempty"`
	// Events are newest first. The registry keeps no history: each change happened at or
	// before its observed_at, after the observation before it.
	Events []history.EventJSON `json:"events"`
}

// historyGapJSON is an observation of a batch the journal did not record.
type historyGapJSON struct {
	Reason string `json:"reason"`       // queued, dropped, failed, never_observed
	At     string `json:"at,omitempty"` // when it was observed, RFC 3339 (absent for never_observed)
	Detail string `json:"detail"`       // the reason in words
}

// gapDetail says a gap's reason in words; requeued adds that the batch was handed to the
// journal again.
func gapDetail(reason string, requeued bool) string {
	var d string
	switch reason {
	case history.GapQueued:
		d = "observed and waiting to be recorded; ask again shortly"
	case history.GapDropped:
		d = "observed while the journal was too busy to take it (its queue was full), and not recorded: a change may be missing"
	case history.GapFailed:
		d = "observed while the journal's database failed, and not recorded: a change may be missing"
	case history.GapNeverObserved:
		d = "not observed since this explorer has kept a journal"
	default:
		d = reason
	}
	if requeued {
		d += "; it has been handed to the journal again now"
	}
	return d
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
	// A day after today is refused as the pages refuse it: an empty list would say that
	// nothing changed.
	days, ok := s.readDaysJSON(c, false)
	if !ok {
		return nil
	}
	since, sinceText := days.since, days.sinceText
	if s.history == nil {
		s.writeJSON(c, http.StatusNotFound, apiError{Status: http.StatusNotFound, Code: "not_found",
			Error: "this explorer keeps no history", What: "history", Value: id})
		return nil
	}
	b, err := s.explorer.CreditBatch(c.Request.Context(), id)
	if err != nil {
		return &lookupError{what: "credit batch", value: id, err: err}
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), historyWait)
	defer cancel()
	evs, err := s.history.Events(ctx, []string{id}, since, 0)
	var cov map[string]history.Coverage
	if err == nil {
		cov, err = s.history.Coverage(ctx, []string{id})
	}
	if err != nil {
		s.log.Warn("history unavailable", "batch", id, "err", err)
		s.writeJSON(c, http.StatusServiceUnavailable, apiError{Status: http.StatusServiceUnavailable, Code: "unavailable",
			Error: "the history cannot be read just now; the other routes are not affected", What: "history", Value: id, Retry: true})
		return nil
	}
	out := historyJSON{BatchID: id, Since: sinceText, Events: history.EventsJSON(evs)}
	cv := cov[id]
	out.Recorded = cv.Recorded
	if cv.Recorded {
		out.RecordedAt = cv.RecordedAt.UTC().Format(time.RFC3339)
	}
	if cv.Gap != "" {
		// A batch the journal lacks is handed to it again: kept in the cache, it would
		// otherwise not be observed anew (a final one never). The cache's copy is the newest
		// it stored, so it cannot take the journal back to an older state.
		requeue := cv.Gap != history.GapQueued
		if requeue {
			s.history.Observe(b)
		}
		out.Gap = &historyGapJSON{Reason: cv.Gap, Detail: gapDetail(cv.Gap, requeue)}
		if !cv.GapAt.IsZero() {
			out.Gap.At = cv.GapAt.UTC().Format(time.RFC3339)
		}
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
	var cov map[string]history.Coverage
	if err == nil {
		cov, err = s.history.Coverage(ctx, ids)
	}
	if err != nil {
		s.log.Warn("history unavailable", "batch", tree.Target.ID, "err", err)
		v.Unavailable = true
		return v
	}
	v.Gaps = s.treeGaps(tree, cov)
	if len(evs) > historyPageLimit {
		evs, v.More = evs[:historyPageLimit], true
	}
	v.Events = historyEvents(evs)
	if !tree.Walked.IsZero() {
		// The section lists what the journal holds now; the tree above is as walked. Said
		// where they differ, so that the page does not contradict itself unexplained.
		for _, e := range evs {
			if e.ObservedAt.After(tree.Walked) {
				v.AfterWalk++
			}
		}
		if v.AfterWalk > 0 {
			v.Walked, v.AgainURL = views.FormatTime(tree.Walked), views.RetryURL(tree.Target.ID)
		}
	}
	return v
}

// treeGaps counts the batches of tree the journal lacks (or may lack a change of), by reason,
// and hands those it dropped, failed or never saw to it again when they are final: a final
// batch is kept in the cache for good, so it would never be observed anew, and the tree's copy
// of it is still true. An active one is not: the tree's copy may be older than what the journal
// holds, and the cache fetches it again after CACHE_TTL anyway.
func (s *server) treeGaps(tree *lineage.Tree, cov map[string]history.Coverage) []views.HistoryGap {
	type key struct {
		reason   string
		recorded bool
	}
	counts := map[key]int{}
	for id, c := range cov {
		if c.Gap == "" {
			continue
		}
		counts[key{c.Gap, c.Recorded}]++
		if n := tree.Nodes[id]; c.Gap != history.GapQueued && n != nil && n.Batch != nil && n.Batch.Status.Final() {
			s.history.Observe(n.Batch)
		}
	}
	var out []views.HistoryGap
	for _, r := range []string{history.GapDropped, history.GapFailed, history.GapQueued, history.GapNeverObserved} {
		for _, rec := range []bool{false, true} {
			if n := counts[key{r, rec}]; n > 0 {
				out = append(out, views.HistoryGap{Reason: r, Recorded: rec, Count: n})
			}
		}
	}
	return out
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
