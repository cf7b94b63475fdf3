package handlers

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
)

// utf8BOM starts the CSV export: without it, Excel reads a CSV in the machine's legacy code
// page (Windows-1252 and the like), so an organisation named "Søren Æbelø" or "北京碳汇"
// arrives garbled. LibreOffice, Google Sheets, pandas and Python's utf-8-sig all skip it.
const utf8BOM = "\ufeff"

// lineageJSON is GET /api/v1/batches/{id}/lineage: the lineage tree of a batch as JSON
// (registry.LineageExport: nodes, problems, totals, audit figures; kg as JSON integers). It
// waits for the walk rather than answer with a progress page, for as long as the client does.
func (s *server) lineageJSON(c *gin.Context) error {
	tree, err := s.walkedLineage(c)
	if err != nil {
		return err
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
	tree, err := s.walkedLineage(c)
	if err != nil {
		return err
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
// for its lineage walk, sharing one under way, bounded by the request's context.
func (s *server) walkedLineage(c *gin.Context) (*registry.Tree, error) {
	id := strings.TrimSpace(c.Param("id"))
	if err := registry.ValidateID(registry.PrefixCreditBatch, id); err != nil {
		return nil, &lookupError{what: "credit batch", value: c.Param("id"), err: err}
	}
	tree, err := s.explorer.Lineage(c.Request.Context(), id)
	if err != nil {
		return nil, &lookupError{what: "credit batch", value: id, err: err}
	}
	return tree, nil
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
