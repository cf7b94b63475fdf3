package handlers

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/views"
)

// batch is GET /batches/{id}: the lineage page. The walk runs in the background and is shared
// by every request for the same tree; when it takes longer than ProgressWait the answer is a
// progress page that reloads itself until the tree is ready.
func (s *server) batch(c *gin.Context) error {
	id := strings.TrimSpace(c.Param("id"))
	if err := registry.ValidateID(registry.PrefixCreditBatch, id); err != nil {
		return &lookupError{what: "credit batch", value: c.Param("id"), err: err}
	}
	if c.Query("retry") != "" {
		// Walk again instead of reusing a walk that has just failed, then drop the parameter
		// so that the progress page's reloads do not restart it.
		s.explorer.StartLineage(id, true)
		c.Redirect(http.StatusSeeOther, s.url(views.BatchURL(id)))
		return nil
	}
	job := s.explorer.StartLineage(id, false)
	if !s.wait(c.Request.Context(), job, s.progressWait) {
		if err := c.Request.Context().Err(); err != nil {
			return err
		}
		s.renderProgress(c, job)
		return nil
	}
	tree, err := job.Result()
	if err != nil {
		return &lookupError{what: "credit batch", value: id, retry: views.RetryURL(id), err: err}
	}
	p := views.NewBatchPage(s.base("Credit batch "+id), tree, job.Started, s.lineage)
	p.Within = withinNotice(c, tree)
	s.render(c, http.StatusOK, views.Batch(p))
	return nil
}

// subtree is GET /batches/{id}/subtree/{node}: the HTML fragment with the rows below node
// in the lineage tree of id, which fills a collapsed branch of the lineage page when opened.
func (s *server) subtree(c *gin.Context) error {
	id, node := c.Param("id"), c.Param("node")
	for _, v := range []string{id, node} {
		if err := registry.ValidateID(registry.PrefixCreditBatch, v); err != nil {
			return &lookupError{what: "credit batch", value: v, err: err}
		}
	}
	job := s.explorer.StartLineage(id, false)
	if !s.wait(c.Request.Context(), job, s.fragmentWait) {
		if err := c.Request.Context().Err(); err != nil {
			return err
		}
		return &lookupError{what: "credit batch", value: id, err: context.DeadlineExceeded}
	}
	tree, err := job.Result()
	if err != nil {
		return &lookupError{what: "credit batch", value: id, err: err}
	}
	tv, ok := views.NewSubtree(tree, id, node, s.lineage)
	if !ok {
		return &lookupError{what: "credit batch", value: node, err: registry.ErrNotFound}
	}
	c.Header("X-Robots-Tag", "noindex")
	s.render(c, http.StatusOK, views.Subtree(tv))
	return nil
}

// wait reports whether job finished within d (or had already).
func (s *server) wait(ctx context.Context, job *registry.LineageJob, d time.Duration) bool {
	return waitFor(ctx, job.Done(), d)
}

// renderProgress answers 202 with a page that reloads itself every second.
func (s *server) renderProgress(c *gin.Context, job *registry.LineageJob) {
	s.showProgress(c, views.ProgressPage{Base: s.base("Tracing " + job.ID), ID: job.ID, URL: batchPageURL(c, job.ID),
		Fetched: job.Progress.Fetched(), Discovered: job.Progress.Discovered(),
		Elapsed: views.FormatDuration(time.Since(job.Started))})
}
