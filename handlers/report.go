package handlers

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/lineage"
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
	follow   func(id string, walk uint64) *lineage.ReportJob[T] // the job a progress page showed
	url      func(id string) string                             // the page's canonical URL
	retryURL func(id string) string
	page     func(base views.Base, report T) templ.Component
	// sorted, when set, is page for a request with ?sort= (a table sorted by that column).
	sorted func(base views.Base, report T, sort string) templ.Component
	title  func(id string) string

	// since, when set, is page for a request with ?since=YYYY-MM-DD: what changed since that
	// day marked (see issuanceSince); the page of a route without it, and every route's JSON
	// and CSV, refuse the parameter (refuseDay). Every route refuses ?as_of=: none
	// reconstructs a report.
	since func(ctx context.Context, base views.Base, report T, d dayParams) templ.Component
}

// id reads and checks the route's :id; a malformed one is a 400 with nothing sent upstream.
func (r reportRoute[T]) id(c *gin.Context) (string, error) {
	id, err := registry.CanonicalID(r.prefix, c.Param("id"))
	if err != nil {
		return "", &lookupError{what: r.what, value: c.Param("id"), err: err}
	}
	return id, nil
}

// sinceURL is where what changed since the day asked is marked for the report id: its page
// with ?since= when the route marks changes and the day can be answered, else its page.
func (r reportRoute[T]) sinceURL(c *gin.Context, id string) string {
	if d, e := parseDays(c, false, time.Now()); e == nil && r.since != nil {
		return d.keep(r.url(id))
	}
	return r.url(id)
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
			c.Redirect(http.StatusMovedPermanently, s.canonical(c, r.url(id)))
			return nil
		}
		now := "The " + r.what + "’s page as it is now, from which the lineage page of each batch opens"
		if s.refuseDay(c, "as_of", false, "the "+r.what+" page", r.url(id), now) ||
			(r.since == nil && s.refuseDay(c, "since", false, "the "+r.what+" page", r.url(id), now)) {
			return nil
		}
		var days dayParams
		if r.since != nil {
			var ok bool
			if days, ok = s.readDays(c, false); !ok {
				return nil
			}
		}
		if s.retried(c, func() { r.start(id, true) }, days.keep(r.url(id))) {
			return nil
		}
		job := r.follow(id, walkParam(c))
		rep, ready, err := await(c, job.Done(), job.Result, s.progressWait, lookupError{what: r.what, value: id, retry: r.retryURL(id)})
		switch {
		case err != nil:
			return err
		case !ready:
			// The reloads keep ?since=, so that the report ends on the marked page.
			s.showProgress(c, views.ProgressPage{Base: s.base("Tracing " + id), ID: id, Heading: r.heading, URL: withWalk(days.keep(r.url(id)), job.Walk),
				Fetched: job.Fetched(), Discovered: job.Discovered(), Elapsed: views.FormatDuration(time.Since(job.Started))})
			return nil
		}
		if days.asksSince() {
			s.render(c, http.StatusOK, r.since(c.Request.Context(), s.base(r.title(id)), rep, days))
			return nil
		}
		if sort := c.Query("sort"); sort != "" && r.sorted != nil {
			s.render(c, http.StatusOK, r.sorted(s.base(r.title(id)), rep, sort))
			return nil
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
		if s.refuseDay(c, "as_of", true, "the "+r.what, "", "") || s.refuseDay(c, "since", true, "the "+r.what, "", "") {
			return nil
		}
		job := r.start(id, c.Query("retry") != "")
		rep, ready, err := await(c, job.Done(), job.Result, s.fragmentWait, lookupError{what: r.what, value: id})
		switch {
		case err != nil:
			return err
		case !ready:
			s.writePending(c, id, job.Fetched(), job.Discovered(), job.Started)
			return nil
		}
		s.writeJSON(c, http.StatusOK, rep)
		return nil
	}
}

// csv is the route of the report as a CSV download, written by write and named file-{id}.csv.
// A report not ready within the wait answers as the lineage CSV does: a browser gets the
// progress page, which reloads the download; a script gets the JSON 202.
func (r reportRoute[T]) csv(s *server, file string, csvURL func(string) string, write func(io.Writer, T) error) pageHandler {
	return func(c *gin.Context) error {
		id, err := r.id(c)
		if err != nil {
			return err
		}
		now := "The " + r.what + "’s page as it is now, from which the lineage page of each batch opens"
		if s.refuseDay(c, "as_of", false, "the "+r.what+"’s CSV", r.url(id), now) || s.refuseDay(c, "since", false, "the "+r.what+"’s CSV", r.sinceURL(c, id), now) {
			return nil
		}
		browser := accepts(c.GetHeader("Accept"), "text/html")
		wait := s.fragmentWait
		if browser {
			wait = s.progressWait
		}
		job := r.start(id, false)
		rep, ready, err := await(c, job.Done(), job.Result, wait, lookupError{what: r.what, value: id, retry: r.retryURL(id)})
		switch {
		case err != nil:
			return err
		case !ready && browser:
			s.showProgress(c, views.ProgressPage{Base: s.base("Preparing the CSV of " + id), ID: id, Heading: r.heading, URL: csvURL(id),
				Fetched: job.Fetched(), Discovered: job.Discovered(), Elapsed: views.FormatDuration(time.Since(job.Started))})
			return nil
		case !ready:
			s.writePending(c, id, job.Fetched(), job.Discovered(), job.Started)
			return nil
		}
		var buf bytes.Buffer
		buf.WriteString(utf8BOM)
		if err := write(&buf, rep); err != nil {
			return err
		}
		// The id is well formed (letters, digits, one underscore): no quoting rules needed.
		c.Header("Content-Disposition", `attachment; filename="`+file+`-`+id+`.csv"`)
		c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
		return nil
	}
}

// issuanceRoute is /issuances/{id} and /api/v1/issuances/{id}: where an issuance's credits
// went (lineage.Explorer.StartIssuanceReport).
func (s *server) issuanceRoute() reportRoute[*lineage.IssuanceReport] {
	return reportRoute[*lineage.IssuanceReport]{
		what: "issuance", prefix: registry.PrefixIssuance, heading: "Tracing the credits of issuance",
		start: s.explorer.StartIssuanceReport, follow: s.explorer.FollowIssuanceReport, url: views.IssuanceURL, retryURL: views.IssuanceRetryURL,
		title: func(id string) string { return "Issuance " + id },
		page: func(b views.Base, rep *lineage.IssuanceReport) templ.Component {
			return views.Issuance(s.issuancePage(b, rep))
		},
		since: s.issuanceSince,
	}
}

// issuancePage is the issuance page of rep with its Watch button, marked or not.
func (s *server) issuancePage(b views.Base, rep *lineage.IssuanceReport) views.IssuancePage {
	p := views.NewIssuancePage(b, rep)
	p.Watch = s.watchButtons(views.WatchButton{Kind: history.WatchIssuance, Target: rep.Issuance.ID, Label: "Watch this issuance"})
	return p
}

// retirementRoute is /retirements/{id} and /api/v1/retirements/{id}: what a retirement
// retired and where each batch came from (lineage.Explorer.StartRetirementReport).
func (s *server) retirementRoute() reportRoute[*lineage.RetirementReport] {
	return reportRoute[*lineage.RetirementReport]{
		what: "retirement", prefix: registry.PrefixRetirement, heading: "Following the batches of retirement",
		start: s.explorer.StartRetirementReport, follow: s.explorer.FollowRetirementReport, url: views.RetirementURL, retryURL: views.RetirementRetryURL,
		title: func(id string) string { return "Retirement " + id },
		page: func(b views.Base, rep *lineage.RetirementReport) templ.Component {
			return views.Retirement(views.NewRetirementPage(b, rep))
		},
		sorted: func(b views.Base, rep *lineage.RetirementReport, sort string) templ.Component {
			return views.Retirement(views.NewRetirementPage(b, rep).SortedBy(sort))
		},
	}
}

// await waits up to d for a background job (a lineage walk or a report) that closes done when
// finished and then returns its result. It returns the result and ready=true when the job
// succeeded; ready=false and a nil error when it is still running, so that the caller answers
// with its progress; or an error: the request's own when the browser left, else the job's,
// wrapped in le (what was looked for, where to retry) for the error page.
func await[T any](c *gin.Context, done <-chan struct{}, result func() (T, error), d time.Duration, le lookupError) (v T, ready bool, err error) {
	if !waitFor(c.Request.Context(), done, d) {
		return v, false, c.Request.Context().Err()
	}
	if v, err = result(); err != nil {
		le.err = err
		return v, false, &le
	}
	return v, true, nil
}

// retried handles ?retry=1 on a page: it starts the work again (instead of reusing a result
// that has just failed) and redirects to the page without the parameter, so that the progress
// page's reloads do not restart it. It reports whether it answered.
func (s *server) retried(c *gin.Context, again func(), page string) bool {
	if c.Query("retry") == "" {
		return false
	}
	again()
	c.Redirect(http.StatusSeeOther, s.url(page))
	return true
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
