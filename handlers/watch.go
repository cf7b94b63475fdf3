package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/watch"
	"github.com/lineage-explorer/explorer/views"
)

// Watch lists (issue 18, point 3): /watch and /api/v1/watches. A watch belongs to the
// signed-in user (owner(c); "" is the instance's list when nobody signs in): another user's is
// answered 404, as one that does not exist, so that ids do not leak. Every write is refused
// cross-origin (sameOrigin).

// watchChangesLimit is the most changes /watch lists for one watch.
const watchChangesLimit = 50

// minWebhookSecret is the shortest webhook secret accepted: it is an HMAC key.
const minWebhookSecret = 16

// maxWebhookSecret is the longest: a longer HMAC key adds nothing (SHA-256 hashes one longer
// than its 64-byte block first), and the secret is kept in the database.
const maxWebhookSecret = 256

// watching reports whether the explorer keeps watch lists (a journal and a poller).
func (s *server) watching() bool { return s.history != nil && s.watch != nil }

// errNoWatches answers the watch routes of an explorer that keeps no watch lists.
var errNoWatches = &lookupError{what: "page", value: "/watch", err: fmt.Errorf("this explorer keeps no watch lists: %w", registry.ErrNotFound)}

// watchButtons are the forms a page shows to watch what it shows (none without watch lists).
func (s *server) watchButtons(bs ...views.WatchButton) []views.WatchButton {
	if !s.watching() {
		return nil
	}
	return bs
}

// watchInputError is a watch that cannot be added, in words for the form and the API.
type watchInputError struct {
	status int // 400 or 404
	msg    string
	value  string
}

func (e *watchInputError) Error() string { return e.msg }

// maxWatchTarget bounds the text read as what to watch (a pasted URL included): ParseQuery
// reads its input whole.
const maxWatchTarget = 2048

// watchTarget checks what a form or a tool asked to watch and returns the kind and target in
// canonical form. The kind is read whatever its case; the target as search reads it: an id in
// any case, or pasted in a registry URL. A batch, an issuance and a serial number are looked
// up (a batch through the cache, an issuance with GET /issuances/{id}), so that a typo is said
// at once rather than on /watch later.
func (s *server) watchTarget(ctx context.Context, kind, target string) (string, string, error) {
	kind = strings.ToLower(strings.TrimSpace(kind))
	target = strings.TrimSpace(target)
	bad := func(msg string) error {
		return &watchInputError{status: http.StatusBadRequest, msg: msg, value: target}
	}
	if len(target) > maxWatchTarget {
		return "", "", bad("That is too long to be an id, a serial number or a registry URL.")
	}
	switch kind {
	case history.WatchBatch:
		id, ok := watchID(registry.PrefixCreditBatch, registry.TargetBatch, target)
		if !ok {
			return "", "", bad("A credit batch id looks like ctb_1ABC234DEF567GHJ.")
		}
		if _, err := s.explorer.CreditBatch(ctx, id); err != nil {
			if errors.Is(err, registry.ErrNotFound) {
				return "", "", &watchInputError{status: http.StatusNotFound, msg: "The registry has no credit batch " + id + ".", value: id}
			}
			return "", "", err
		}
		return kind, id, nil
	case history.WatchIssuance:
		id, ok := watchID(registry.PrefixIssuance, registry.TargetIssuance, target)
		if !ok {
			return "", "", bad("An issuance id looks like iss_1ABC234DEF567GHJ.")
		}
		if _, err := s.explorer.Issuance(ctx, id); err != nil {
			if errors.Is(err, registry.ErrNotFound) {
				return "", "", &watchInputError{status: http.StatusNotFound, msg: "The registry has no issuance " + id + ".", value: id}
			}
			return "", "", err
		}
		return kind, id, nil
	case history.WatchSerial:
		ser, err := registry.ParseSerial(target)
		if err != nil {
			found := false
			for _, t := range registry.ParseQuery(target) {
				if t.Kind == registry.TargetSerial {
					ser, err = registry.ParseSerial(t.Value)
					found = err == nil
					break
				}
			}
			if !found {
				return "", "", bad("A serial number looks like ISO-1-BSTORE-GBR-F5X7-2024-78177-81177.")
			}
		}
		if _, err := s.explorer.ResolveSerial(ctx, ser.String()); err != nil {
			if errors.Is(err, registry.ErrNotFound) {
				return "", "", &watchInputError{status: http.StatusNotFound, msg: "No credit batch holds serial number " + ser.String() + ".", value: ser.String()}
			}
			return "", "", err
		}
		return kind, ser.String(), nil
	}
	return "", "", bad("Choose what to watch: a credit batch's tree, an issuance or a serial number.")
}

// watchID reads text as an id with prefix, as search does: typed in any case, or pasted in a
// registry URL or among other words (the first id of kind found).
func watchID(prefix string, kind registry.TargetKind, text string) (string, bool) {
	if id, err := registry.CanonicalID(prefix, text); err == nil {
		return id, true
	}
	for _, t := range registry.ParseQuery(text) {
		if t.Kind == kind {
			return t.Value, true
		}
	}
	return "", false
}

// watchURL is the page of what w watches.
func watchURL(kind, target string) string {
	switch kind {
	case history.WatchIssuance:
		return views.IssuanceURL(target)
	case history.WatchSerial:
		return views.SerialURL(target)
	}
	return views.BatchURL(target)
}

var watchWhat = map[string]string{history.WatchBatch: "Tree of credit batch", history.WatchIssuance: "Issuance", history.WatchSerial: "Serial number"}

// watchPage is GET /watch: the user's watches with what changed since their last visit, which
// this visit then moves to now.
func (s *server) watchPage(c *gin.Context) error {
	if !s.watching() {
		return errNoWatches
	}
	s.renderWatches(c, http.StatusOK, "", views.WatchButton{})
	return nil
}

// watchGone is the query /watch is redirected to after "Stop watching" a watch that is no
// longer in the list (clicked twice, or from two tabs).
const watchGone = "gone=1"

// noWatchError is a watch id that is not in the user's list: gone, never made, or another
// user's (one answer for the three, so that ids do not leak).
type noWatchError struct{ id string }

func (e *noWatchError) Error() string { return "no watch " + shown(e.id) + " in your list" }

func (e *noWatchError) Unwrap() error { return history.ErrWatchNotFound }

// renderWatches renders /watch with status; msg says why a form was refused (its values kept in
// form). A page answered 200 to GET marks the visit.
func (s *server) renderWatches(c *gin.Context, status int, msg string, form views.WatchButton) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), historyWait)
	defer cancel()
	me := owner(c)
	now := time.Now()
	p := views.WatchPage{Base: s.base("Watch list"), Interval: views.FormatInterval(s.watch.Interval()), Budget: budgetWords(s.watch.Budget()),
		Error: msg, Form: form, Standby: s.watch.Standby()}
	if c.Request.Method == http.MethodGet && c.Query("gone") != "" {
		p.Notice = "That watch was no longer in your list: there was nothing to stop."
	}
	ws, err := s.history.Watches(ctx, me)
	if err != nil {
		s.log.Warn("watch list unavailable", "err", err)
		p.Unavailable = true
	}
	var visited time.Time
	for _, w := range ws {
		p.Items = append(p.Items, s.watchItem(ctx, w))
		if w.LastVisited.After(w.Created) && w.LastVisited.After(visited) {
			visited = w.LastVisited
		}
	}
	p.LastVisit = views.FormatTime(visited)
	p.Webhook.Enabled = s.watch.Notifier() != nil
	if h, ok, err := s.history.Webhook(ctx, me); err == nil && ok {
		p.Webhook.Set, p.Webhook.Where, p.Webhook.Since = true, views.WebhookWhere(h.URL), views.FormatTime(h.Created)
	}
	if ds, err := s.history.Deliveries(ctx, me, 10); err == nil {
		for _, d := range ds {
			p.Deliveries = append(p.Deliveries, views.DeliveryView{At: views.FormatTime(d.Started), OK: d.OK, Status: d.Status,
				Attempts: d.Attempts, Changes: d.Changes, Err: d.Err})
		}
	}
	c.Header("Cache-Control", "no-store")
	s.render(c, status, views.Watches(p))
	if status == http.StatusOK && c.Request.Method == http.MethodGet && !p.Unavailable {
		if err := s.history.MarkVisited(ctx, me, now); err != nil {
			s.log.Warn("watch visit not recorded", "err", err)
		}
	}
}

// budgetWords says the polling budget.
func budgetWords(perHour int) string {
	if perHour == 0 {
		return "no upstream budget set: every active batch at every poll"
	}
	return "within " + views.FormatCount(perHour) + " upstream requests an hour"
}

// watchItem is one watch on /watch, with its changes since the last visit.
func (s *server) watchItem(ctx context.Context, w history.Watch) views.WatchItem {
	it := views.WatchItem{ID: w.ID, Kind: w.Kind, What: watchWhat[w.Kind], Target: w.Target, URL: watchURL(w.Kind, w.Target),
		Added: views.FormatTime(w.Created), Polled: "not polled yet"}
	if s.watch.Standby() {
		it.Polled = "polled by another replica"
	}
	st := s.watch.Status(w.ID)
	if st.Known {
		polled, behind := st.Polled()
		if !polled.IsZero() {
			it.Polled = "polled " + views.FormatTime(polled)
		} else if len(st.Trees) > 0 {
			it.Polled = "not polled whole yet"
		}
		it.Behind, it.Err = behind, st.Err
		for _, t := range st.Trees {
			it.Batches += len(t.Batches)
			it.Active += t.Active
		}
	}
	evs, err := watch.Changes(ctx, s.history, st.BatchIDs(), w.LastVisited, time.Time{})
	if err != nil {
		it.ChangesUnavailable = true
		return it
	}
	it.Changes = historyEvents(evs[:min(len(evs), watchChangesLimit)])
	return it
}

// watchAdd is POST /watch (kind, target): adds the watch and answers 303 to /watch; a target
// that cannot be watched is answered with the page again, saying why.
func (s *server) watchAdd(c *gin.Context) error {
	if !s.watching() {
		return errNoWatches
	}
	asked, target := c.PostForm("kind"), c.PostForm("target")
	kind, canon, err := s.watchTarget(c.Request.Context(), asked, target)
	var in *watchInputError
	switch {
	case errors.As(err, &in):
		s.renderWatches(c, in.status, in.msg, views.WatchButton{Kind: strings.ToLower(asked), Target: target})
		return nil
	case err != nil:
		return &lookupError{what: asked, value: target, err: err}
	}
	if _, err := s.history.AddWatch(c.Request.Context(), owner(c), kind, canon, time.Now()); err != nil {
		return s.watchStoreFailed(err)
	}
	s.watch.Kick()
	c.Redirect(http.StatusSeeOther, s.url(views.WatchURL()))
	return nil
}

// watchStoreFailed is the error of a watch list that cannot be written: the database failed.
func (s *server) watchStoreFailed(err error) error {
	s.log.Warn("watch list unavailable", "err", err)
	return &lookupError{what: "watch list", value: "", err: errors.Join(registry.ErrUnavailable, err)}
}

// watchDelete is POST /watch/{id}/delete: removes the user's watch id and answers 303 to
// /watch. One not in the list (already removed: the button clicked twice) is answered the
// same, with a notice on /watch: what the user wanted is so.
func (s *server) watchDelete(c *gin.Context) error {
	if !s.watching() {
		return errNoWatches
	}
	switch err := s.history.DeleteWatch(c.Request.Context(), owner(c), c.Param("id")); {
	case errors.Is(err, history.ErrWatchNotFound):
		c.Redirect(http.StatusSeeOther, s.url(views.WatchURL())+"?"+watchGone)
		return nil
	case err != nil:
		return s.watchStoreFailed(err)
	}
	c.Redirect(http.StatusSeeOther, s.url(views.WatchURL()))
	return nil
}

// watchWebhook is POST /watch/webhook (url, secret; or remove): sets or removes the list's
// webhook. The URL must be one the operator allows (the Notifier's CheckURL); the secret is
// kept and never shown back.
func (s *server) watchWebhook(c *gin.Context) error {
	if !s.watching() {
		return errNoWatches
	}
	ctx := c.Request.Context()
	if c.PostForm("remove") != "" {
		if err := s.history.DeleteWebhook(ctx, owner(c)); err != nil {
			return s.watchStoreFailed(err)
		}
		c.Redirect(http.StatusSeeOther, s.url(views.WatchURL()))
		return nil
	}
	n := s.watch.Notifier()
	url, secret := strings.TrimSpace(c.PostForm("url")), c.PostForm("secret")
	var msg string
	switch {
	case n == nil:
		msg = "This explorer sends no webhooks: whoever runs it has not said where they may go (WEBHOOK_ALLOW)."
	case url == "":
		msg = "Give the webhook's URL."
	case len(secret) < minWebhookSecret:
		msg = "The secret must be " + strconv.Itoa(minWebhookSecret) + " characters or more: it signs every delivery."
	case utf8.RuneCountInString(secret) > maxWebhookSecret:
		msg = "The secret must be " + strconv.Itoa(maxWebhookSecret) + " characters or fewer: a longer one signs no better."
	default:
		if err := n.CheckURL(url); err != nil {
			msg = "That URL is refused: " + err.Error()
		}
	}
	if msg != "" {
		s.renderWatches(c, http.StatusBadRequest, msg, views.WatchButton{})
		return nil
	}
	if err := s.history.SetWebhook(ctx, owner(c), url, []byte(secret), time.Now()); err != nil {
		return s.watchStoreFailed(err)
	}
	c.Redirect(http.StatusSeeOther, s.url(views.WatchURL()))
	return nil
}

// watchJSON is one watch in /api/v1/watches.
type watchJSON struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`   // batch, issuance or serial
	Target    string `json:"target"` // the id or serial number watched
	URL       string `json:"url"`    // its page
	CreatedAt string `json:"created_at"`
	// LastVisited is when its owner last opened /watch; Changes are those observed since.
	LastVisited string `json:"last_visited"`
	// PolledAt is when its trees were last polled whole ("" not yet); Behind counts the active
	// batches the last poll could not ask for (budget spent, registry failing).
	PolledAt string `json:"polled_at,omitempty"`
	Behind   int    `json:"behind"`
	Batches  int    `json:"batches"`
	Active   int    `json:"active"`
	Problem  string `json:"problem,omitempty"`
	// Changes are newest first, at most 50; "first seen" is not listed.
	Changes []history.EventJSON `json:"changes"`
}

// watchesJSON is GET /api/v1/watches: the user's watch list. Reading it does not move the
// last visit (the page does).
func (s *server) watchesJSON(c *gin.Context) error {
	if !s.watching() {
		return errNoWatches
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), historyWait)
	defer cancel()
	ws, err := s.history.Watches(ctx, owner(c))
	if err != nil {
		return s.watchStoreFailed(err)
	}
	out := struct {
		Interval string `json:"interval"` // WATCH_INTERVAL, such as "15m0s"
		// Budget is WATCH_BUDGET, the most upstream requests an hour polling may make; null
		// when there is no limit (WATCH_BUDGET=none), which 0 would not say.
		Budget  *int        `json:"budget_per_hour"`
		Watches []watchJSON `json:"watches"`
	}{Interval: s.watch.Interval().String(), Watches: make([]watchJSON, 0, len(ws))}
	if b := s.watch.Budget(); b > 0 {
		out.Budget = &b
	}
	for _, w := range ws {
		out.Watches = append(out.Watches, s.watchJSONOf(ctx, w))
	}
	c.Header("Cache-Control", "no-store")
	s.writeJSON(c, http.StatusOK, out)
	return nil
}

func (s *server) watchJSONOf(ctx context.Context, w history.Watch) watchJSON {
	j := watchJSON{ID: w.ID, Kind: w.Kind, Target: w.Target, URL: s.url(watchURL(w.Kind, w.Target)),
		CreatedAt: w.Created.Format(time.RFC3339), LastVisited: w.LastVisited.Format(time.RFC3339), Changes: []history.EventJSON{}}
	st := s.watch.Status(w.ID)
	polled, behind := st.Polled()
	if st.Known && !polled.IsZero() {
		j.PolledAt = polled.UTC().Format(time.RFC3339)
	}
	j.Behind, j.Problem = behind, st.Err
	for _, t := range st.Trees {
		j.Batches += len(t.Batches)
		j.Active += t.Active
	}
	if evs, err := watch.Changes(ctx, s.history, st.BatchIDs(), w.LastVisited, time.Time{}); err == nil {
		j.Changes = history.EventsJSON(evs[:min(len(evs), watchChangesLimit)])
	}
	return j
}

// watchesAdd is POST /api/v1/watches with {"kind": "batch"|"issuance"|"serial", "target": …}:
// 201 with the watch (200 when the user watched it already).
func (s *server) watchesAdd(c *gin.Context) error {
	if !s.watching() {
		return errNoWatches
	}
	var in struct {
		Kind   string `json:"kind"`
		Target string `json:"target"`
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10)
	if err := c.ShouldBindJSON(&in); err != nil {
		s.writeJSON(c, http.StatusBadRequest, apiError{Status: http.StatusBadRequest, Code: "invalid",
			Error: `send a JSON object such as {"kind": "batch", "target": "ctb_…"}`, What: "watch"})
		return nil
	}
	kind, canon, err := s.watchTarget(c.Request.Context(), in.Kind, in.Target)
	var bad *watchInputError
	switch {
	case errors.As(err, &bad):
		code := "invalid"
		if bad.status == http.StatusNotFound {
			code = "not_found"
		}
		s.writeJSON(c, bad.status, apiError{Status: bad.status, Code: code, Error: bad.msg, What: in.Kind, Value: bad.value})
		return nil
	case err != nil:
		return &lookupError{what: in.Kind, value: in.Target, err: err}
	}
	now := time.Now()
	w, err := s.history.AddWatch(c.Request.Context(), owner(c), kind, canon, now)
	if err != nil {
		return s.watchStoreFailed(err)
	}
	s.watch.Kick()
	status := http.StatusCreated
	if w.Created.Before(now.Truncate(time.Millisecond)) {
		status = http.StatusOK
	}
	s.writeJSON(c, status, s.watchJSONOf(c.Request.Context(), w))
	return nil
}

// watchesDelete is DELETE /api/v1/watches/{id}: 204, or 404 for a watch that is not the user's.
func (s *server) watchesDelete(c *gin.Context) error {
	if !s.watching() {
		return errNoWatches
	}
	switch err := s.history.DeleteWatch(c.Request.Context(), owner(c), c.Param("id")); {
	case errors.Is(err, history.ErrWatchNotFound):
		return &lookupError{what: "watch", value: c.Param("id"), err: &noWatchError{id: c.Param("id")}}
	case err != nil:
		return s.watchStoreFailed(err)
	}
	c.Status(http.StatusNoContent)
	return nil
}
