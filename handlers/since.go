package handlers

import (
	"cmp"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

// dayLayout is the form of ?since= and ?as_of=: a day, read as UTC.
const dayLayout = "2006-01-02"

// dayParams are a page's ?since= and ?as_of=, checked. A zero time means not asked.
type dayParams struct {
	since, asOf         time.Time // the start of the day (UTC)
	sinceText, asOfText string    // as asked, YYYY-MM-DD
}

// endOfAsOf is the last instant of the as_of day: observations made during that day count.
func (d dayParams) endOfAsOf() time.Time { return d.asOf.Add(24*time.Hour - time.Millisecond) }

// readDays reads ?since= and, when asOf is allowed, ?as_of=. A malformed day (or both at once)
// answers 400 with the reason and returns false.
func (s *server) readDays(c *gin.Context, asOf bool) (dayParams, bool) {
	var d dayParams
	bad := func(name, value, why string) (dayParams, bool) {
		s.render(c, http.StatusBadRequest, views.Error(views.ErrorPage{Base: s.base("Bad Request"), Status: http.StatusBadRequest,
			Heading: "That is not a valid " + name,
			Message: "“" + shown(value) + "” " + why,
			Hint:    "Write the day as YYYY-MM-DD, such as", Example: "2026-10-01"}))
		return d, false
	}
	read := func(name string) (time.Time, string, bool) {
		v := strings.TrimSpace(c.Query(name))
		if v == "" {
			return time.Time{}, "", true
		}
		t, err := time.Parse(dayLayout, v)
		if err != nil {
			return time.Time{}, v, false
		}
		return t, v, true
	}
	var ok bool
	if d.since, d.sinceText, ok = read("since"); !ok {
		return bad("?since= day", d.sinceText, "is not a day of the form YYYY-MM-DD (UTC), so nothing can be marked as changed since it.")
	}
	if !asOf {
		return d, true
	}
	if d.asOf, d.asOfText, ok = read("as_of"); !ok {
		return bad("?as_of= day", d.asOfText, "is not a day of the form YYYY-MM-DD (UTC), so the tree cannot be shown as it was then.")
	}
	if d.sinceText != "" && d.asOfText != "" {
		return bad("combination", "since="+d.sinceText+"&as_of="+d.asOfText, "asks for two things at once: ?as_of= shows the tree as it was on a day, ?since= marks what changed after one. Ask for one of them.")
	}
	return d, true
}

// sinceMarks reads what the journal observed of the batches in nodes since day, and says it
// as marks by batch and a summary: splits (the new halves marked new), retirements (with their
// kg) and changes of holder, a new half that went to another holder than its parent's
// included.
func (s *server) sinceMarks(ctx context.Context, nodes map[string]*lineage.Node, day time.Time, dayText, liveURL string) (views.SinceView, map[string]views.SinceMark) {
	v := views.SinceView{Day: dayText, LiveURL: liveURL}
	if s.history == nil {
		v.NotKept = true
		return v, nil
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
	return sinceSummary(v, evs, nodes)
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
	p := views.NewIssuancePage(base, rep)
	nodes := map[string]*lineage.Node{}
	for _, t := range rep.Trees {
		if t == nil {
			continue
		}
		for id, n := range t.Nodes {
			nodes[id] = n
		}
	}
	v, marks := s.sinceMarks(ctx, nodes, d.since, d.sinceText, views.IssuanceURL(rep.Issuance.ID))
	p.MarkSince(v, marks, rep.Trees)
	return views.Issuance(p)
}
