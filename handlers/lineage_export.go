package handlers

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

// utf8BOM starts the CSV export: without it, Excel reads a CSV in the machine's legacy code
// page (Windows-1252 and the like), so an organisation named "Søren Æbelø" or "北京碳汇"
// arrives garbled. LibreOffice, Google Sheets, pandas and Python's utf-8-sig all skip it.
const utf8BOM = "\ufeff"

// lineageJSON is GET /api/v1/batches/{id}/lineage: the lineage tree of a batch as JSON
// (lineage.LineageExport: nodes, problems, totals, audit figures; kg as JSON integers). It
// waits for the walk rather than answer with a progress page, for as long as the client does.
func (s *server) lineageJSON(c *gin.Context) error {
	var days dayParams
	if strings.TrimSpace(c.Query("as_of")) != "" {
		// With ?as_of= a ?since= is refused as the page refuses it.
		var ok bool
		if days, ok = s.readDaysJSON(c, true); !ok {
			return nil
		}
	} else if v := strings.TrimSpace(c.Query("since")); v != "" {
		// The export has no place for the page's marks: said, rather than the whole tree
		// answered as if it were what changed since.
		id := c.Param("id")
		if canonical, err := registry.CanonicalID(registry.PrefixCreditBatch, id); err == nil {
			id = canonical
		}
		q := "?since=" + url.QueryEscape(v)
		s.writeJSON(c, http.StatusBadRequest, apiError{Status: http.StatusBadRequest, Code: "invalid", What: "since", Value: v,
			Error: "the lineage export takes no ?since=: what changed since a day is in each batch's history, " +
				s.url(views.HistoryJSONURL(id)) + q + ", and marked on the lineage page, " + s.url(views.BatchURL(id)) + q})
		return nil
	}
	tree, job, err := s.walkedLineage(c, s.fragmentWait)
	if err != nil {
		return err
	}
	if tree == nil {
		s.writePending(c, job.ID, job.Progress.Fetched(), job.Progress.Discovered(), job.Started)
		return nil
	}
	if days.asksAsOf() {
		return s.lineageJSONAsOf(c, tree, days)
	}
	return s.serveCached(c, newRenderKey(tree, "json", "", ""), "application/json; charset=utf-8", func(_ context.Context, w io.Writer) error {
		return json.NewEncoder(w).Encode(tree.Export())
	})
}

// lineageCSV is GET /batches/{id}/lineage.csv: the lineage tree of a batch as a CSV download,
// one row per batch, streamed as it is written; with ?as_of=YYYY-MM-DD, the tree as the
// lineage page reconstructs it for that day. Failures before the first byte get the error
// page, as the lineage page would.
func (s *server) lineageCSV(c *gin.Context) error {
	id := c.Param("id")
	if canonical, err := registry.CanonicalID(registry.PrefixCreditBatch, id); err == nil {
		id = canonical
	}
	lineagePage := views.BatchURL(id)
	if d, e := parseDays(c, false, time.Now()); e == nil {
		lineagePage = d.keep(lineagePage)
	}
	// The CSV has no place for the page's marks, as the JSON has not.
	if s.refuseDay(c, "since", false, "the lineage CSV", lineagePage, "The lineage page of "+id+", which marks what changed since the day asked") {
		return nil
	}
	days, ok := s.readDays(c, true)
	if !ok {
		return nil
	}
	// A browser gets its progress page as soon as the lineage page would; a script waits
	// as long as the JSON export does.
	browser := accepts(c.GetHeader("Accept"), "text/html")
	wait := s.fragmentWait
	if browser {
		wait = s.progressWait
	}
	tree, job, err := s.walkedLineage(c, wait)
	if err != nil {
		return err
	}
	if tree == nil {
		if !browser {
			// A script (curl -O) would save a progress page as the CSV: give it the JSON
			// export's 202 instead, which says to ask again and is no file to save.
			s.writePending(c, job.ID, job.Progress.Fetched(), job.Progress.Discovered(), job.Started)
			return nil
		}
		// A browser follows the download link: show the walk advancing, then come back here,
		// where the file downloads (and the page, as browsers do, stays as it was).
		csv := withWalk(days.keep(views.LineageCSVURL(job.ID)), job.Walk)
		p := walkProgress(job)
		p.Base, p.Heading, p.URL, p.Download = s.base("Preparing the CSV of "+job.ID), "Preparing the CSV of the lineage of", csv, "CSV file"
		s.showProgress(c, p)
		return nil
	}
	if days.asksAsOf() {
		return s.lineageCSVAsOf(c, tree, days)
	}
	// The retirements' purposes are records of their own (final, kept once fetched).
	purposes, perr := s.explorer.RetirementPurposes(c.Request.Context(), tree.RetirementIDs())
	if err := c.Request.Context().Err(); err != nil {
		return err
	}
	build := func(_ context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, utf8BOM); err != nil {
			return err
		}
		return lineage.WriteCSVWithPurposes(w, tree, purposes)
	}
	// The id is well formed (letters, digits, one underscore), so it needs no quoting rules.
	c.Header("Content-Disposition", `attachment; filename="lineage-`+tree.Target.ID+`.csv"`)
	if perr != nil {
		// Some purposes are marked as not fetched: this answer is not kept, so that the next
		// download asks for those records again.
		s.log.Warn("retirement purposes not fetched for the lineage CSV", "batch", tree.Target.ID, "err", perr)
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Cache-Control", "no-store")
		c.Status(http.StatusOK)
		return build(c.Request.Context(), c.Writer)
	}
	return s.serveCached(c, newRenderKey(tree, "csv", "", ""), "text/csv; charset=utf-8", build)
}

// walkedLineage validates the id (nothing is sent upstream for a malformed one) and waits
// for its lineage walk, sharing one under way, for at most FragmentWait: a cold walk of a
// large tree can take minutes, longer than the server's write timeout, so past that it
// returns no tree and the walk under way, for a 202 that says how far it got.
func (s *server) walkedLineage(c *gin.Context, wait time.Duration) (*lineage.Tree, *lineage.LineageJob, error) {
	id, err := registry.CanonicalID(registry.PrefixCreditBatch, c.Param("id"))
	if err != nil {
		return nil, nil, &lookupError{what: "credit batch", value: c.Param("id"), err: err}
	}
	job := s.explorer.FollowLineage(id, walkParam(c))
	tree, _, err := await(c, job.Done(), job.Result, wait, lookupError{what: "credit batch", value: id})
	if err != nil {
		return nil, nil, err
	}
	return tree, job, nil
}
