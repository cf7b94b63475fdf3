package handlers

import (
	"cmp"
	"context"
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

// dayLayout is the form of ?since= and ?as_of=: a day, read as UTC.
const dayLayout = "2006-01-02"

// dayParams are a page's ?since= and ?as_of=, checked. Whether a day was asked is said by its
// text: 0001-01-01 is the zero time, and a day asked all the same.
type dayParams struct {
	since, asOf         time.Time // the start of the day (UTC)
	sinceText, asOfText string    // as asked, YYYY-MM-DD; "" when not asked
	// asOfToday is set when as_of is today (UTC): the day is not over, and what is shown is
	// what was observed so far.
	asOfToday bool
}

// asksSince and asksAsOf report whether the request asked for the day.
func (d dayParams) asksSince() bool { return d.sinceText != "" }
func (d dayParams) asksAsOf() bool  { return d.asOfText != "" }

// keep adds the days asked to the page link u, so that a reload or a retry of the page lands
// on the same view of it.
func (d dayParams) keep(u string) string {
	return views.WithDay(views.WithDay(u, "since", d.sinceText), "as_of", d.asOfText)
}

// endOfAsOf is the last instant of the as_of day: observations made during that day count.
func (d dayParams) endOfAsOf() time.Time { return d.asOf.Add(24*time.Hour - time.Millisecond) }

// dayError is a ?since= or ?as_of= that cannot be answered: a 400, said by the page or the JSON.
type dayError struct {
	name  string // the parameter: "since", "as_of", or "since and as_of"
	value string // as asked
	why   string // the reason, a sentence that follows the value
}

// parseDays reads ?since= and, when asOf is allowed, ?as_of=, with today (UTC) from now. A
// malformed day, a day after today or both days at once is a dayError.
func parseDays(c *gin.Context, asOf bool, now time.Time) (dayParams, *dayError) {
	var d dayParams
	today := now.UTC().Truncate(24 * time.Hour)
	read := func(name, what string) (time.Time, string, *dayError) {
		if vs := c.QueryArray(name); len(vs) > 1 {
			// Which one was meant cannot be told: not the first silently.
			return time.Time{}, "", &dayError{name, strings.Join(vs, " and "), "asks for " + name + " more than once: give one " + name + "."}
		}
		v := strings.TrimSpace(c.Query(name))
		if v == "" {
			return time.Time{}, "", nil
		}
		t, err := time.Parse(dayLayout, v)
		if err != nil {
			return time.Time{}, v, &dayError{name, v, "is not a day of the form YYYY-MM-DD (UTC), so " + what + "."}
		}
		if t.After(today) {
			return time.Time{}, v, &dayError{name, v, "is after today (" + today.Format(dayLayout) + ", UTC): nothing has been observed on it yet, so " + what + "."}
		}
		return t, v, nil
	}
	var err *dayError
	if d.since, d.sinceText, err = read("since", "nothing can be marked as changed since it"); err != nil {
		return d, err
	}
	if !asOf {
		return d, nil
	}
	if d.asOf, d.asOfText, err = read("as_of", "the tree cannot be shown as it was then"); err != nil {
		return d, err
	}
	if d.asksSince() && d.asksAsOf() {
		return d, &dayError{"since and as_of", "since=" + d.sinceText + "&as_of=" + d.asOfText,
			"asks for two things at once: ?as_of= shows the tree as it was on a day, ?since= marks what changed after one. Ask for one of them."}
	}
	d.asOfToday = d.asksAsOf() && d.asOf.Equal(today)
	return d, nil
}

// readDays is parseDays for a page: a day that cannot be answered gets a 400 page with the
// reason, and false.
func (s *server) readDays(c *gin.Context, asOf bool) (dayParams, bool) {
	d, e := parseDays(c, asOf, time.Now())
	if e == nil {
		return d, true
	}
	heading := "That is not a valid ?" + e.name + "= day"
	if e.name == "since and as_of" {
		heading = "That is not a valid combination"
	}
	s.render(c, http.StatusBadRequest, views.Error(views.ErrorPage{Base: s.base("Bad Request"), Status: http.StatusBadRequest,
		Heading: heading,
		Message: "“" + shown(e.value) + "” " + e.why,
		Hint:    "Write the day as YYYY-MM-DD, today or earlier, such as", Example: "2026-10-01"}))
	return d, false
}

// canonical is the id's own address to, on this app, with the request's query as asked: a
// redirect from another spelling of the id leads to the same view of the page (?since=,
// ?as_of=, ?sort=, ?serial=), which the page then checks as it would have.
func (s *server) canonical(c *gin.Context, to string) string {
	to = s.url(to)
	if q := c.Request.URL.RawQuery; q != "" {
		to += "?" + q
	}
	return to
}

// keepDays is the page found by a serial number or a search, to, with the days asked (only
// ?since= and ?as_of=: the other parameters were the lookup's); a day that cannot be answered
// gets readDays' 400 page rather than a redirect that drops it, and false.
func (s *server) keepDays(c *gin.Context, to string) (string, bool) {
	d, ok := s.readDays(c, true)
	return s.url(d.keep(to)), ok
}

// readDaysJSON is parseDays for the API (?as_of= read when asOf is set): a day that cannot be
// answered gets a JSON 400 with the same reason as the page's, and false.
func (s *server) readDaysJSON(c *gin.Context, asOf bool) (dayParams, bool) {
	d, e := parseDays(c, asOf, time.Now())
	if e == nil {
		return d, true
	}
	s.writeJSON(c, http.StatusBadRequest, apiError{Status: http.StatusBadRequest, Code: "invalid",
		Error: e.name + " “" + e.value + "” " + e.why, What: e.name, Value: e.value, Hint: "YYYY-MM-DD, today or earlier (UTC)"})
	return d, false
}

// refuseDay answers 400 to a day the route cannot honour, rather than serve what it serves as
// if it were of that day: name "as_of" on a route that makes no reconstruction (an issuance's
// or a retirement's page, JSON or CSV, a project's or an organisation's, the chart), name
// "since" on one that marks no changes (the exports, a retirement's page and JSON, the chart).
// Any value is refused, well formed or not. what names what the route shows ("the chart");
// link is where the reader can go instead (a lineage page, or a page from which the trees'
// lineage pages open), said by linkText; the JSON, with no link, says the routes. It reports
// whether it answered.
func (s *server) refuseDay(c *gin.Context, name string, json bool, what, link, linkText string) bool {
	v := strings.TrimSpace(c.Query(name))
	if v == "" {
		return false
	}
	where := "?as_of= is available on a lineage page only"
	msg := "“" + shown(v) + "”: " + what + " is shown as it is now. Only the lineage page of a credit batch (/batches/{id}?as_of=YYYY-MM-DD) shows a tree as this explorer observed it on a day."
	jsonMsg := "as_of is available on the lineage of a batch only (/api/v1/batches/{id}/lineage?as_of=YYYY-MM-DD): " + what + " is given as it is now"
	if name == "since" {
		where = "?since= is marked on a lineage page or an issuance’s page only"
		msg = "“" + shown(v) + "”: " + what + " marks no changes. What changed since a day is marked on the lineage page of a credit batch (/batches/{id}?since=YYYY-MM-DD) and on an issuance’s page (/issuances/{id}?since=YYYY-MM-DD), and listed in a batch’s history (/api/v1/batches/{id}/history?since=YYYY-MM-DD)."
		jsonMsg = what + " takes no ?since=: what changed since a day is in each batch's history (/api/v1/batches/{id}/history?since=YYYY-MM-DD), and marked on the lineage page of a batch (/batches/{id}?since=YYYY-MM-DD) and on an issuance's page (/issuances/{id}?since=YYYY-MM-DD)"
	}
	if json {
		s.writeJSON(c, http.StatusBadRequest, apiError{Status: http.StatusBadRequest, Code: "invalid", What: name, Value: v, Error: jsonMsg})
		return true
	}
	s.render(c, http.StatusBadRequest, views.Error(views.ErrorPage{Base: s.base("Bad Request"), Status: http.StatusBadRequest,
		Heading: where, Message: msg, LinkURL: link, LinkText: linkText}))
	return true
}

// sinceMarks reads what the journal observed of the batches of trees since day, and says it
// as marks by batch and a summary: splits (the new halves marked new), retirements (with their
// kg) and changes of holder, a new half that went to another holder than its parent's
// included. Only what each tree shows is counted: a change observed after its walk ended, or
// a split or retirement the tree does not have (its batch came from a cache older than the
// observation), is left to the next walk and counted in Later; againURL walks again.
func (s *server) sinceMarks(ctx context.Context, trees []*lineage.Tree, day time.Time, dayText, liveURL, againURL string) (views.SinceView, map[string]views.SinceMark) {
	v := views.SinceView{Day: dayText, LiveURL: liveURL, Several: len(trees) > 1}
	if s.history == nil {
		v.NotKept = true
		return v, nil
	}
	nodes := map[string]*lineage.Node{}
	walked := map[string]time.Time{}
	var last time.Time
	for _, t := range trees {
		if t == nil {
			continue
		}
		for id, n := range t.Nodes {
			nodes[id], walked[id] = n, t.Walked
		}
		if t.Walked.After(last) {
			last = t.Walked
		}
	}
	if !last.IsZero() {
		v.WalkedAt = last.UTC().Format("2006-01-02 15:04 UTC")
	}
	ids := make([]string, 0, len(nodes))
	for id := range nodes {
		ids = append(ids, id)
	}
	ctx, cancel := context.WithTimeout(ctx, historyWait)
	defer cancel()
	evs, err := s.history.Events(ctx, ids, day, 0)
	var first time.Time
	if err == nil {
		first, err = s.history.FirstObserved(ctx, ids)
	}
	if err != nil {
		s.log.Warn("history unavailable", "err", err)
		v.Unavailable = true
		return v, nil
	}
	if first.After(day) {
		v.FirstObserved = first.UTC().Format(dayLayout)
	}
	shown := evs[:0]
	for _, e := range evs {
		if w := walked[e.BatchID]; (!w.IsZero() && e.ObservedAt.After(w)) || !treeShows(nodes[e.BatchID], e) {
			if counted(e) {
				v.Later++
			}
			continue
		}
		shown = append(shown, e)
	}
	if v.Later > 0 {
		v.AgainURL = againURL
	}
	return sinceSummary(v, shown, nodes)
}

// counted reports whether sinceSummary counts e as a change of its own.
func counted(e history.Event) bool {
	switch e.Kind {
	case history.KindChildren:
		return e.To != "" && e.From == ""
	case history.KindStatus:
		return e.To == "retired"
	case history.KindOwner:
		return true
	}
	return false
}

// treeShows reports whether the node n of a tree shows the outcome of e, for the changes that
// are final (a split, a retirement): a tree whose batch is still active does not, whatever the
// journal saw since. A holder can change back and forth, so changes of holder are taken as
// the walk's time says.
func treeShows(n *lineage.Node, e history.Event) bool {
	if n == nil || n.Batch == nil {
		return true
	}
	switch {
	case e.Kind == history.KindStatus && e.To == "retired":
		return n.Batch.Status == registry.StatusRetired
	case e.Kind == history.KindChildren && e.To != "" && e.From == "":
		return len(n.Batch.Children()) > 0
	}
	return true
}

// sinceSummary is sinceMarks on the events read, newest first.
func sinceSummary(v views.SinceView, evs []history.Event, nodes map[string]*lineage.Node) (views.SinceView, map[string]views.SinceMark) {
	marks := map[string]views.SinceMark{}
	firstOwner := map[string]string{} // a batch's holder before its changes of holder since the day
	firstSeen := map[string]history.Event{}
	for _, e := range evs {
		m := marks[e.BatchID]
		switch e.Kind {
		case history.KindChildren:
			if e.To == "" || e.From != "" {
				break
			}
			v.Splits++
			for _, child := range strings.Fields(e.To) {
				cm := marks[child]
				cm.New = true
				marks[child] = cm
			}
		case history.KindStatus:
			if e.To == "retired" {
				v.Retirements++
				v.RetiredKg += e.Kg
				m.Retired = true
			}
		case history.KindOwner:
			v.HolderChanges++
			// Newest first: the last one seen is the oldest change, whose From is the holder
			// the batch had on the day.
			m.HolderFrom = cmp.Or(e.FromLabel, e.From)
			firstOwner[e.BatchID] = e.From
		case history.KindFirstSeen:
			firstSeen[e.BatchID] = e
		}
		if m.Any() {
			marks[e.BatchID] = m
		}
	}
	// A half split off between two observations was first seen as it was by then: retired,
	// or split again (its halves new too, and so on down).
	done := map[string]bool{}
	for more := true; more; {
		more = false
		for id, e := range firstSeen {
			m := marks[id]
			if !m.New || done[id] {
				continue
			}
			done[id] = true
			switch {
			case e.To == "retired" && !m.Retired:
				m.Retired = true
				marks[id] = m
				v.Retirements++
				v.RetiredKg += e.Kg
			case e.To == "split" && nodes[id] != nil && nodes[id].Batch != nil:
				v.Splits++
				for _, child := range nodes[id].Batch.Children() {
					cm := marks[child]
					cm.New, more = true, true
					marks[child] = cm
				}
			}
		}
	}
	for id, m := range marks {
		n := nodes[id]
		if !m.New || m.HolderFrom != "" || n == nil || n.Batch == nil || n.Parent == nil || n.Parent.Batch == nil {
			continue
		}
		owner, ok := firstOwner[id]
		if !ok {
			owner = n.Batch.Owner.ID
		}
		if p := n.Parent.Batch.Owner; owner != p.ID {
			m.HolderFrom = cmp.Or(p.Name, p.ID)
			marks[id] = m
			v.HolderChanges++
		}
	}
	return v, marks
}

// issuanceSince is the issuance page with what changed in its trees since the day d.since
// marked (/issuances/{id}?since=YYYY-MM-DD).
func (s *server) issuanceSince(ctx context.Context, base views.Base, rep *lineage.IssuanceReport, d dayParams) templ.Component {
	p := s.issuancePage(base, rep)
	id := rep.Issuance.ID
	v, marks := s.sinceMarks(ctx, rep.Trees, d.since, d.sinceText, views.IssuanceURL(id), d.keep(views.IssuanceRetryURL(id)))
	p.MarkSince(v, marks, rep.Trees)
	return views.Issuance(p)
}
