package handlers

import (
	"context"
	"io"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/views"
)

// chart is GET /batches/{id}/chart[?from={batch}]: the icicle chart of the lineage tree of id
// from one of its batches (by default the branch of id, views.BranchOf), so that a batch that
// is a sliver of the whole tree's chart can be seen and followed without script. A from that
// is not in the tree is a 404; while the walk runs, the progress page comes back here.
func (s *server) chart(c *gin.Context) error {
	id, err := registry.CanonicalID(registry.PrefixCreditBatch, c.Param("id"))
	if err != nil {
		return &lookupError{what: "credit batch", value: c.Param("id"), err: err}
	}
	lineagePage := views.BatchURL(id)
	if d, e := parseDays(c, true, time.Now()); e == nil {
		lineagePage = d.keep(lineagePage) // the day asked, where the lineage page can show it
	}
	if s.refuseDay(c, "as_of", false, "the chart", lineagePage, "The lineage page of "+id+", whose chart and tree show the day asked") ||
		s.refuseDay(c, "since", false, "the chart", lineagePage, "The lineage page of "+id+", whose chart and tree mark what changed since the day asked") {
		return nil
	}
	from := ""
	if q := c.Query("from"); q != "" {
		if from, err = registry.CanonicalID(registry.PrefixCreditBatch, q); err != nil {
			return &lookupError{what: "credit batch", value: q, err: err}
		}
	}
	job := s.explorer.FollowLineage(id, walkParam(c))
	tree, ready, err := await(c, job.Done(), job.Result, s.progressWait, lookupError{what: "credit batch", value: id, retry: views.RetryURL(id)})
	switch {
	case err != nil:
		return err
	case !ready:
		p := walkProgress(job)
		p.Base, p.URL = s.base("Tracing "+job.ID), withWalk(views.ChartURL(id, from), job.Walk)
		s.showProgress(c, p)
		return nil
	}
	node := views.BranchOf(tree.Target)
	if from != "" {
		if node = tree.Nodes[from]; node == nil {
			return &notInTreeError{node: from, tree: id}
		}
	}
	return s.serveCached(c, newRenderKey(tree, "chart", node.ID, c.GetString(userKey)), htmlType, func(ctx context.Context, w io.Writer) error {
		p := views.NewChartPage(s.base("Chart of "+node.ID), tree, node, s.lineage.Chart)
		return views.Chart(p).Render(ctx, w)
	})
}
