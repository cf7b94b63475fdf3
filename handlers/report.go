package handlers

import (
	"context"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/views"
)

// reportRoute serves a page (and its JSON) built by a background report job, the way the
// lineage page serves a walk: the job is shared by every request for the id; a request that
// waits longer than ProgressWait gets the progress page, which reloads itself until the
// report is ready; ?retry=1 builds it again.
type reportRoute[T any] struct {
	what     string // "issuance", "retirement": for error pages
	prefix   string // the id's prefix (registry.PrefixIssuance, ...)
	heading  string // the progress page's heading before the id
	start    func(id string, fresh bool) *lineage.ReportJob[T]
	url      func(id string) string // the page's canonical URL
	retryURL func(id string) string
	page     func(base views.Base, report T) templ.Component
	title    func(id string) string
}

// id reads and checks the route's :id; a malformed one is a 400 with nothing sent upstream.
func (r reportRoute[T]) id(c *gin.Context) (string, error) {
	id, err := registry.CanonicalID(r.prefix, c.Param("id"))
	if err != nil {
		return "", &lookupError{what: r.what, value: c.Param("id"), err: err}
	}
	return id, nil
}

// html is the page route.
func (r reportRoute[T]) html(s *server) pageHandler {
	return func(c *gin.Context) error {
		id, err := r.id(c)
		if err != nil {
			return err
		}
		if id != strings.TrimSpace(c.Param("id")) {
			// Typed in full-width forms: the same id, at its page's own address.
			c.Redirect(http.StatusMovedPermanently, s.url(r.url(id)))
			return nil
		}
		if c.Query("retry") != "" {
			// Build again instead of reusing a report that has just failed, then drop the
			// parameter so that the progress page's reloads do not restart it.
			r.start(id, true)
			c.Redirect(http.StatusSeeOther, s.url(r.url(id)))
			return nil
		}
		job := r.start(id, false)
		if !waitFor(c.Request.Context(), job.Done(), s.progressWait) {
			if err := c.Request.Context().Err(); err != nil {
				return err
			}
			s.showProgress(c, views.ProgressPage{Base: s.base("Tracing " + id), ID: id, Heading: r.heading, URL: r.url(id),
				Fetched: job.Fetched(), Discovered: job.Discovered(), Elapsed: views.FormatDuration(time.Since(job.Started))})
			return nil
		}
		rep, err := job.Result()
		if err != nil {
			return &lookupError{what: r.what, value: id, retry: r.retryURL(id), err: err}
		}
		s.render(c, http.StatusOK, r.page(s.base(r.title(id)), rep))
		return nil
	}
}

// json is the route for tools: the report as JSON once ready. A report not ready within
// FragmentWait answers 202 with its progress and Retry-After; ask again.
func (r reportRoute[T]) json(s *server) apiHandler {
	return func(c *gin.Context) error {
		id, err := r.id(c)
		if err != nil {
			return err
		}
		job := r.start(id, c.Query("retry") != "")
		if !waitFor(c.Request.Context(), job.Done(), s.fragmentWait) {
			if err := c.Request.Context().Err(); err != nil {
				return err
			}
			s.writePending(c, id, job.Fetched(), job.Discovered(), job.Started)
			return nil
		}
		rep, err := job.Result()
		if err != nil {
			return &lookupError{what: r.what, value: id, err: err}
		}
		s.writeJSON(c, http.StatusOK, rep)
		return nil
	}
}

// issuanceRoute is /issuances/{id} and /api/v1/issuances/{id}: where an issuance's credits
// went (lineage.Explorer.StartIssuanceReport).
func (s *server) issuanceRoute() reportRoute[*lineage.IssuanceReport] {
	return reportRoute[*lineage.IssuanceReport]{
		what: "issuance", prefix: registry.PrefixIssuance, heading: "Tracing the credits of issuance",
		start: s.explorer.StartIssuanceReport, url: views.IssuanceURL, retryURL: views.IssuanceRetryURL,
		title: func(id string) string { return "Issuance " + id },
		page: func(b views.Base, rep *lineage.IssuanceReport) templ.Component {
			return views.Issuance(views.NewIssuancePage(b, rep))
		},
	}
}

// retirementRoute is /retirements/{id} and /api/v1/retirements/{id}: what a retirement
// retired and where each batch came from (lineage.Explorer.StartRetirementReport).
func (s *server) retirementRoute() reportRoute[*lineage.RetirementReport] {
	return reportRoute[*lineage.RetirementReport]{
		what: "retirement", prefix: registry.PrefixRetirement, heading: "Following the batches of retirement",
		start: s.explorer.StartRetirementReport, url: views.RetirementURL, retryURL: views.RetirementRetryURL,
		title: func(id string) string { return "Retirement " + id },
		page: func(b views.Base, rep *lineage.RetirementReport) templ.Component {
			return views.Retirement(views.NewRetirementPage(b, rep))
		},
	}
}

// waitFor reports whether done was closed within d (or already was), giving up early when
// ctx ends.
func waitFor(ctx context.Context, done <-chan struct{}, d time.Duration) bool {
	select {
	case <-done:
		return true
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// showProgress answers 202 with a progress page that reloads p.RefreshURL (default: p's page)
// every second.
func (s *server) showProgress(c *gin.Context, p views.ProgressPage) {
	p.Refresh = 1
	if p.RefreshURL == "" {
		p.RefreshURL = p.PageURL()
	}
	c.Header("Retry-After", "1")
	s.render(c, http.StatusAccepted, views.Progress(p))
}
