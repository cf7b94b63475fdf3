package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

// batch is GET /batches/{id}: the lineage page. The walk runs in the background and is shared
// by every request for the same tree; when it takes longer than ProgressWait the answer is a
// progress page that reloads itself until the tree is ready.
func (s *server) batch(c *gin.Context) error {
	id, err := registry.CanonicalID(registry.PrefixCreditBatch, c.Param("id"))
	if err != nil {
		return &lookupError{what: "credit batch", value: c.Param("id"), err: err}
	}
	if canon := restoreCase(id); canon != strings.TrimSpace(c.Param("id")) {
		// A link whose id went through LOWER(), or that was typed in full-width forms, names
		// the same batch: send it to the page.
		c.Redirect(http.StatusMovedPermanently, s.canonical(c, views.BatchURL(canon)))
		return nil
	}
	days, ok := s.readDays(c, true)
	if !ok {
		return nil
	}
	if s.retried(c, func() { s.explorer.StartLineage(id, true) }, days.keep(views.BatchURL(id))) {
		return nil
	}
	job := s.explorer.FollowLineage(id, walkParam(c))
	tree, ready, err := await(c, job.Done(), job.Result, s.progressWait, lookupError{what: "credit batch", value: id, retry: views.RetryURL(id)})
	switch {
	case err != nil:
		return err
	case !ready:
		s.renderProgress(c, job, days)
		return nil
	}
	if days.asksAsOf() {
		return s.batchAsOf(c, tree, job, days)
	}
	asked := askedSerial(c)
	serial := ""
	if asked != nil {
		serial = asked.String()
	}
	// The journal's generation is part of the key: a kept page is rendered again once new
	// changes are recorded, or once the journal works again after it failed. It is read before
	// the history, so a change recorded in between renders the page again rather than being
	// missed.
	gen := uint64(0)
	if s.history != nil {
		gen = s.history.Generation()
	}
	k := newRenderKey(tree, "page", serial+"\x00history "+strconv.FormatUint(gen, 10)+"\x00since "+days.sinceText, c.GetString(userKey))
	return s.serveCached(c, k, htmlType, func(ctx context.Context, w io.Writer) error {
		p := views.NewBatchPage(s.base("Credit batch "+id), tree, job.Started, s.lineage)
		p.Within = withinNotice(tree, asked)
		p.History = s.treeHistory(ctx, tree)
		if days.asksSince() {
			p.MarkSince(s.sinceMarks(ctx, []*lineage.Tree{tree}, days.since, days.sinceText, views.BatchURL(id), days.keep(views.RetryURL(id))))
		}
		p.Watch = s.watchButtons(views.WatchButton{Kind: history.WatchBatch, Target: id, Label: "Watch this tree"})
		// The serial the page was reached by, else the batch's own: /serial/{serial} leads here.
		watched := serial
		if n := tree.Target; watched == "" && n != nil && n.Batch != nil {
			if own, err := registry.ParseSerial(n.Batch.SerialNumber); err == nil {
				watched = own.String()
			}
		}
		if watched != "" {
			p.Watch = s.watchButtons(append(p.Watch, views.WatchButton{Kind: history.WatchSerial, Target: watched, Label: "Watch this serial number"})...)
		}
		return views.Batch(p).Render(ctx, w)
	})
}

// subtree is GET /batches/{id}/subtree/{node}: the HTML fragment with the rows below node
// in the lineage tree of id, which fills a collapsed branch of the lineage page when opened.
func (s *server) subtree(c *gin.Context) error {
	id, err := registry.CanonicalID(registry.PrefixCreditBatch, c.Param("id"))
	if err != nil {
		return &lookupError{what: "credit batch", value: c.Param("id"), err: err}
	}
	node, err := registry.CanonicalID(registry.PrefixCreditBatch, c.Param("node"))
	if err != nil {
		return &lookupError{what: "credit batch", value: c.Param("node"), err: err}
	}
	job := s.explorer.StartLineage(id, false)
	tree, ready, err := await(c, job.Done(), job.Result, s.fragmentWait, lookupError{what: "credit batch", value: id})
	switch {
	case err != nil:
		return err
	case !ready:
		// Not a failure: the walk goes on. The page's script shows this and lets the user retry.
		c.Header("Retry-After", "1")
		c.Header("X-Robots-Tag", "noindex")
		s.render(c, http.StatusAccepted, views.SubtreePending(views.ProgressPage{ID: id,
			Fetched: job.Progress.Fetched(), Discovered: job.Progress.Discovered()}))
		return nil
	}
	if d, asked := c.GetQuery("as_of"); asked {
		// A branch opened on a reconstruction is of the reconstruction, never today's rows.
		days, ok := s.readDays(c, true)
		if !ok {
			return nil
		}
		r, err := s.reconstructed(c, tree, days)
		if err != nil || r.tree == nil {
			return err
		}
		if _, ok := r.tree.Nodes[node]; !ok {
			return &notInTreeError{node: node, tree: id + " as of " + d}
		}
		c.Header("X-Robots-Tag", "noindex")
		c.Header("Cache-Control", "no-store")
		tv, _ := views.NewSubtree(r.tree, id, node, s.lineage)
		views.KeepAsOfRows(tv.Items, days.asOfText)
		s.render(c, http.StatusOK, views.Subtree(tv))
		return nil
	}
	if _, ok := tree.Nodes[node]; !ok {
		return &notInTreeError{node: node, tree: id}
	}
	c.Header("X-Robots-Tag", "noindex")
	return s.serveCached(c, newRenderKey(tree, "subtree", node, ""), htmlType, func(ctx context.Context, w io.Writer) error {
		tv, _ := views.NewSubtree(tree, id, node, s.lineage) // the node is in the tree
		return views.Subtree(tv).Render(ctx, w)
	})
}

// htmlType is the Content-Type of every page and fragment.
const htmlType = "text/html; charset=utf-8"

// serveCached answers 200 with what build writes for k, built once per finished walk and
// variant and kept in the render cache (see renderCache). It returns build's error, for the
// error page.
func (s *server) serveCached(c *gin.Context, k renderKey, contentType string, build func(ctx context.Context, w io.Writer) error) error {
	r, err := s.renders.get(c.Request.Context(), k, contentType, build)
	if err != nil {
		if c.Request.Context().Err() == nil && !errors.Is(err, context.Canceled) {
			s.log.Error("render failed", "path", c.Request.URL.Path, "err", err)
		}
		return err
	}
	serveRendered(c, r)
	return nil
}

// renderProgress answers 202 with a page that reloads itself every second, naming the walk
// it shows so that its reloads get that walk's outcome, a failure included, and keeping the
// days asked, so that the walk ends on the page asked for (banner and marks). Below the
// progress it shows what the walk has found so far (the batch, its path, a bounded part of
// the tree), from a snapshot whose cost is bounded by what it shows, not by the tree.
func (s *server) renderProgress(c *gin.Context, job *lineage.LineageJob, days dayParams) {
	p := walkProgress(job)
	p.Base, p.URL = s.base("Tracing "+job.ID), withWalk(days.keep(batchPageURL(c, job.ID)), job.Walk)
	active, retired, other, root := job.Progress.SoFar()
	p.Partial = views.NewPartialLineage(job.Progress.Snapshot(views.DefaultPartialRows), active, retired, other, root, views.DefaultPartialRows, s.lineage)
	s.showProgress(c, p)
}

// walkProgress is the progress page of one tree's walk, measured in kg of its root (see
// lineage.Progress.Permille), with the batches fetched and an estimate of the time left.
func walkProgress(job *lineage.LineageJob) views.ProgressPage {
	elapsed := time.Since(job.Started)
	pm := job.Progress.Permille()
	return views.ProgressPage{ID: job.ID, Fetched: job.Progress.Fetched(), Discovered: job.Progress.Discovered(),
		Elapsed: views.FormatDuration(elapsed), ByKg: true, Permille: pm, Left: views.EstimateLeft(elapsed, pm)}
}

// notInTreeError is a branch asked of a lineage tree that does not hold it: a 404, though the
// registry may well have the batch, in another tree.
type notInTreeError struct{ node, tree string }

func (e *notInTreeError) Error() string {
	return e.node + " is not in the lineage tree of " + e.tree
}

// Unwrap makes it a not-found for statusFor.
func (e *notInTreeError) Unwrap() error { return registry.ErrNotFound }

// walkParam is the request's ?walk=: the walk (or report job) a progress page showed, 0 when
// there is none or it is not a number.
func walkParam(c *gin.Context) uint64 {
	n, err := strconv.ParseUint(c.Query("walk"), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// withWalk adds ?walk=n to u: the progress page's reloads come back for the walk they showed,
// and get its outcome even when it failed, where any other request would walk again.
func withWalk(u string, n uint64) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "walk=" + strconv.FormatUint(n, 10)
}
