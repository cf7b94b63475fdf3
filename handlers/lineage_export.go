package handlers

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/views"
)

// utf8BOM starts the CSV export: without it, Excel reads a CSV in the machine's legacy code
// page (Windows-1252 and the like), so an organisation named "Søren Æbelø" or "北京碳汇"
// arrives garbled. LibreOffice, Google Sheets, pandas and Python's utf-8-sig all skip it.
const utf8BOM = "\ufeff"

// lineageJSON is GET /api/v1/batches/{id}/lineage: the lineage tree of a batch as JSON
// (registry.LineageExport: nodes, problems, totals, audit figures; kg as JSON integers). It
// waits for the walk rather than answer with a progress page, for as long as the client does.
func (s *server) lineageJSON(c *gin.Context) error {
	tree, job, err := s.walkedLineage(c)
	if err != nil {
		return err
	}
	if tree == nil {
		s.writePending(c, job.ID, job.Progress.Fetched(), job.Progress.Discovered(), job.Started)
		return nil
	}
	w, done := s.exportWriter(c, "application/json; charset=utf-8")
	if err := json.NewEncoder(w).Encode(tree.Export()); err != nil {
		s.log.Debug("lineage JSON not sent in full", "path", c.Request.URL.Path, "err", err)
	}
	done()
	return nil
}

// lineageCSV is GET /batches/{id}/lineage.csv: the lineage tree of a batch as a CSV download,
// one row per batch, streamed as it is written. Failures before the first byte get the error
// page, as the lineage page would.
func (s *server) lineageCSV(c *gin.Context) error {
	tree, job, err := s.walkedLineage(c)
	if err != nil {
		return err
	}
	if tree == nil {
		// A browser follows the download link: show the walk advancing, then come back here.
		base := s.base("Tracing " + job.ID)
		base.RefreshURL = views.LineageCSVURL(job.ID)
		s.showProgress(c, views.ProgressPage{Base: base, ID: job.ID, URL: batchPageURL(c, job.ID),
			Fetched: job.Progress.Fetched(), Discovered: job.Progress.Discovered(),
			Elapsed: views.FormatDuration(time.Since(job.Started))})
		return nil
	}
	// The id is well formed (letters, digits, one underscore), so it needs no quoting rules.
	c.Header("Content-Disposition", `attachment; filename="lineage-`+tree.Target.ID+`.csv"`)
	w, done := s.exportWriter(c, "text/csv; charset=utf-8")
	_, err = io.WriteString(w, utf8BOM)
	if err == nil {
		err = registry.WriteCSV(w, tree)
	}
	if err != nil {
		// The status is sent: all that is left is to stop. A client that left is no fault.
		s.log.Debug("lineage CSV not sent in full", "path", c.Request.URL.Path, "err", err)
	}
	done()
	return nil
}

// walkedLineage validates the id (nothing is sent upstream for a malformed one) and waits
// for its lineage walk, sharing one under way, for at most FragmentWait: a cold walk of a
// large tree can take minutes, longer than the server's write timeout, so past that it
// returns no tree and the walk under way, for a 202 that says how far it got.
func (s *server) walkedLineage(c *gin.Context) (*registry.Tree, *registry.LineageJob, error) {
	id := strings.TrimSpace(c.Param("id"))
	if err := registry.ValidateID(registry.PrefixCreditBatch, id); err != nil {
		return nil, nil, &lookupError{what: "credit batch", value: c.Param("id"), err: err}
	}
	job := s.explorer.StartLineage(id, false)
	if !waitFor(c.Request.Context(), job.Done(), s.fragmentWait) {
		if err := c.Request.Context().Err(); err != nil {
			return nil, nil, err
		}
		return nil, job, nil
	}
	tree, err := job.Result()
	if err != nil {
		return nil, nil, &lookupError{what: "credit batch", value: id, err: err}
	}
	return tree, job, nil
}

// exportWriter starts a 200 answer of the given type and returns where to write its body,
// gzip-compressed when the client accepts it (a 30,000-batch export shrinks about tenfold),
// and the function that ends it.
func (s *server) exportWriter(c *gin.Context, contentType string) (io.Writer, func()) {
	h := c.Writer.Header()
	h.Set("Content-Type", contentType)
	h.Add("Vary", "Accept-Encoding")
	if !acceptsGzip(c.GetHeader("Accept-Encoding")) {
		c.Status(http.StatusOK)
		return c.Writer, func() {}
	}
	h.Set("Content-Encoding", "gzip")
	c.Status(http.StatusOK)
	zw, _ := gzip.NewWriterLevel(c.Writer, gzip.BestSpeed) // the level is valid
	return zw, func() {
		if err := zw.Close(); err != nil {
			s.log.Debug("export not sent in full", "path", c.Request.URL.Path, "err", err)
		}
	}
}
