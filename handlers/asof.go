package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

// errNoHistory is ?as_of= on an explorer that keeps no journal.
var errNoHistory = errors.New("this explorer keeps no history")

// asOf is the outcome of a reconstruction.
type asOf struct {
	tree   *lineage.Tree // nil when the journal knows nothing of the tree that old
	banner views.AsOfView
	first  time.Time // the journal's first observation of the tree (for the page that says nothing is that old)
	// from and to are the earliest and latest observations the reconstruction rests on.
	from, to time.Time
}

// reconstruct rebuilds live (a finished walk) as the journal last observed it on or before the
// end of the day d.asOf: every batch's recorded state with the changes observed after the day
// undone, laid on its record as fetched today for what the journal does not keep (serial,
// dates of issuance); batches first seen after the day are left out.
func (s *server) reconstruct(ctx context.Context, live *lineage.Tree, d dayParams) (asOf, error) {
	if s.history == nil {
		return asOf{}, errNoHistory
	}
	ids := make([]string, 0, len(live.Nodes))
	for id, n := range live.Nodes {
		if n.Batch != nil {
			ids = append(ids, id)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, historyWait)
	defer cancel()
	// The walk's batches reach the journal in the background, up to a second later: read
	// before they are recorded, a tree just walked would look half unseen (its halves "first
	// seen later", links dangling) as of today.
	if err := s.history.Flush(ctx); err != nil {
		return asOf{}, err
	}
	at := d.endOfAsOf()
	states, err := s.history.AsOf(ctx, ids, at)
	if err != nil {
		return asOf{}, err
	}
	target := live.Target.ID
	out := asOf{banner: views.AsOfView{Day: d.asOfText, Today: d.asOfToday, TargetID: target, LiveURL: views.BatchURL(target)}}
	if _, ok := states[live.Root.ID]; !ok {
		out.first, err = s.history.FirstObserved(ctx, ids)
		return out, err
	}
	batches := make(map[string]*registry.CreditBatch, len(states))
	from, to := &out.from, &out.to
	for id, st := range states {
		batches[id] = st.Apply(live.Nodes[id].Batch, at)
		if from.IsZero() || st.ObservedAt.Before(*from) {
			*from = st.ObservedAt
		}
		if st.ObservedAt.After(*to) {
			*to = st.ObservedAt
		}
		if st.ChangedAfter {
			out.banner.Changed++
		}
	}
	out.banner.Absent = len(ids) - len(states)
	out.banner.From, out.banner.To = out.from.UTC().Format("2006-01-02 15:04 UTC"), out.to.UTC().Format("2006-01-02 15:04 UTC")
	tree, found, err := lineage.Rebuild(ctx, live.Root.ID, target, batches)
	if err != nil {
		return asOf{}, err
	}
	out.banner.TargetAbsent = !found
	out.tree = tree
	return out, nil
}

// reconstructed is reconstruct for the lineage page or its CSV as of d: when there is nothing
// to show, it answers with the page that says why (404), or returns the error for the error
// page, and returns no tree.
func (s *server) reconstructed(c *gin.Context, live *lineage.Tree, d dayParams) (asOf, error) {
	r, err := s.reconstruct(c.Request.Context(), live, d)
	id := live.Target.ID
	switch {
	case errors.Is(err, errNoHistory):
		s.render(c, http.StatusNotFound, views.AsOfNothing(views.AsOfNothingPage{Base: s.base("Credit batch " + id + " as of " + d.asOfText),
			ID: id, Day: d.asOfText, LiveURL: views.BatchURL(id), NotKept: true}))
		return asOf{}, nil
	case err != nil:
		s.log.Warn("history unavailable", "batch", id, "err", err)
		return asOf{}, &lookupError{what: "history of credit batch", value: id, retry: views.BatchURL(id) + "?as_of=" + d.asOfText,
			err: fmt.Errorf("the history cannot be read just now: %w", registry.ErrUnavailable)}
	case r.tree == nil:
		p := views.AsOfNothingPage{Base: s.base("Credit batch " + id + " as of " + d.asOfText), ID: id, Day: d.asOfText, LiveURL: views.BatchURL(id)}
		if !r.first.IsZero() {
			p.Earliest = r.first.UTC().Format(dayLayout)
		}
		s.render(c, http.StatusNotFound, views.AsOfNothing(p))
		return asOf{}, nil
	}
	return r, nil
}

// batchAsOf answers GET /batches/{id}?as_of=YYYY-MM-DD from the finished live walk tree.
func (s *server) batchAsOf(c *gin.Context, live *lineage.Tree, job *lineage.LineageJob, d dayParams) error {
	r, err := s.reconstructed(c, live, d)
	if err != nil || r.tree == nil {
		return err
	}
	id := live.Target.ID
	p := views.NewBatchPage(s.base("Credit batch "+id+" as of "+d.asOfText), r.tree, job.Started, s.lineage)
	p.AsOf = &r.banner
	p.KeepAsOf(d.asOfText)
	c.Header("Cache-Control", "no-store") // the journal grows; a reconstruction is read anew
	s.render(c, http.StatusOK, views.Batch(p))
	return nil
}

// asOfJSON is GET /api/v1/batches/{id}/lineage?as_of=YYYY-MM-DD: the lineage export of the
// reconstruction (the same members as the live export, kg as JSON integers), with what it
// rests on.
type asOfJSON struct {
	AsOf asOfInfoJSON `json:"as_of"`
	*lineage.LineageExport
}

// asOfInfoJSON says what a reconstruction is: the day asked and the observations it rests on.
type asOfInfoJSON struct {
	Day            string `json:"day"`            // YYYY-MM-DD, as asked; the end of that day, UTC
	Today          bool   `json:"today"`          // the day is today (UTC): what was observed so far, the day not over
	Reconstruction bool   `json:"reconstruction"` // always true: the explorer's observations, not the registry's record
	ObservedFrom   string `json:"observed_from"`  // the earliest observation used, RFC 3339
	ObservedTo     string `json:"observed_to"`    // the latest observation used, RFC 3339
	ChangedAfter   int    `json:"changed_after"`  // batches seen to change after the day
	AbsentBatches  int    `json:"absent_batches"` // batches of today's tree first seen after the day
	TargetAbsent   bool   `json:"target_absent"`  // the batch asked for was first seen after the day; target is the root
}

// lineageJSONAsOf answers the lineage export as of d (checked by readDaysJSON) from the
// finished live walk tree.
func (s *server) lineageJSONAsOf(c *gin.Context, live *lineage.Tree, d dayParams) error {
	text := d.asOfText
	r, err := s.reconstruct(c.Request.Context(), live, d)
	id := live.Target.ID
	switch {
	case errors.Is(err, errNoHistory):
		s.writeJSON(c, http.StatusNotFound, apiError{Status: http.StatusNotFound, Code: "not_found",
			Error: "this explorer keeps no history", What: "history", Value: id})
		return nil
	case err != nil:
		s.log.Warn("history unavailable", "batch", id, "err", err)
		s.writeJSON(c, http.StatusServiceUnavailable, apiError{Status: http.StatusServiceUnavailable, Code: "unavailable",
			Error: "the history cannot be read just now; the live lineage is not affected", What: "history", Value: id, Retry: true})
		return nil
	case r.tree == nil:
		msg := "the explorer has no observation of this tree on or before " + text
		if !r.first.IsZero() {
			msg += "; its first is on " + r.first.UTC().Format(dayLayout)
		}
		s.writeJSON(c, http.StatusNotFound, apiError{Status: http.StatusNotFound, Code: "not_found", Error: msg, What: "as_of", Value: text})
		return nil
	}
	b := r.banner
	c.Header("Cache-Control", "no-store")
	s.writeJSON(c, http.StatusOK, asOfJSON{AsOf: asOfInfoJSON{Day: text, Today: d.asOfToday, Reconstruction: true,
		ObservedFrom: r.from.UTC().Format(time.RFC3339), ObservedTo: r.to.UTC().Format(time.RFC3339), ChangedAfter: b.Changed,
		AbsentBatches: b.Absent, TargetAbsent: b.TargetAbsent}, LineageExport: r.tree.Export()})
	return nil
}

// lineageCSVAsOf answers GET /batches/{id}/lineage.csv?as_of=YYYY-MM-DD: the CSV of the
// reconstruction, the lineage page's as of the same day, from the finished live walk tree.
// It is not kept: the journal grows.
func (s *server) lineageCSVAsOf(c *gin.Context, live *lineage.Tree, d dayParams) error {
	r, err := s.reconstructed(c, live, d)
	if err != nil || r.tree == nil {
		return err
	}
	purposes, perr := s.explorer.RetirementPurposes(c.Request.Context(), r.tree.RetirementIDs())
	if err := c.Request.Context().Err(); err != nil {
		return err
	}
	if perr != nil {
		s.log.Warn("retirement purposes not fetched for the lineage CSV", "batch", live.Target.ID, "err", perr)
	}
	// The id is well formed and the day checked: no quoting rules needed.
	c.Header("Content-Disposition", `attachment; filename="lineage-`+live.Target.ID+`-as-of-`+d.asOfText+`.csv"`)
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	if _, err := io.WriteString(c.Writer, utf8BOM); err != nil {
		return err
	}
	return lineage.WriteCSVWithPurposes(c.Writer, r.tree, purposes)
}
