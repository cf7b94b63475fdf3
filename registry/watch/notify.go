package watch

import (
	"context"
	"encoding/json"
	"time"

	"github.com/lineage-explorer/explorer/registry/history"
)

// Delivery is the outcome of one webhook delivery, retries included. Its fields are those of
// the webhook sender's own Delivery, in the same order, so that one converts to the other.
type Delivery struct {
	Attempts          int    // requests made
	Status            int    // the last answer's HTTP status; 0 when none came
	Err               string // why it failed, safe to show (never the secret)
	Started, Finished time.Time
	OK                bool // the webhook accepted it (2xx)
}

// Notifier sends a watch list's changes to its webhook. The webhook sender (which signs the
// body with the secret, retries with backoff and goes only where WEBHOOK_ALLOW lets it) is
// one; tests use a fake.
type Notifier interface {
	// CheckURL is nil when url may receive deliveries, else why not, in words for the user.
	CheckURL(url string) error
	// Deliver sends body to url signed with secret and says how it went.
	Deliver(ctx context.Context, url string, secret []byte, body []byte) Delivery
}

// Payload is the JSON body of a delivery: the changes of each watch of the list since the
// last delivery that was accepted.
type Payload struct {
	SentAt  string         `json:"sent_at"` // RFC 3339, UTC
	Changes []WatchChanges `json:"changes"`
}

// WatchChanges are one watch's changes.
type WatchChanges struct {
	WatchID string              `json:"watch_id"`
	Kind    string              `json:"kind"`   // batch, issuance or serial
	Target  string              `json:"target"` // the id or serial number watched
	Events  []history.EventJSON `json:"events"` // newest first, at most MaxPayloadEvents
	// Omitted counts the older changes left out of Events to keep the body bounded; the
	// history of each batch (/api/v1/batches/{id}/history) has them.
	Omitted int `json:"omitted,omitempty"`
}

// MaxPayloadEvents bounds the changes of one watch in one delivery, so that a tree with many
// changes, or a receiver that failed for a while, never makes a body without bound.
const MaxPayloadEvents = 500

// maxDeliveryBackoff bounds the wait between deliveries to a receiver that keeps failing.
const maxDeliveryBackoff = time.Hour

// deliveryBackoff is how long after its failures-th failure in a row a list's webhook is left
// alone: one interval, doubling to at most maxDeliveryBackoff, so that a receiver that is down
// is not sent a delivery (of five attempts) at every poll.
func deliveryBackoff(interval time.Duration, failures int) time.Duration {
	d := interval
	for i := 1; i < failures && d < maxDeliveryBackoff; i++ {
		d *= 2
	}
	return min(d, maxDeliveryBackoff)
}

// Changes returns the changes of batches ids the journal observed on or after since and before
// until (zero: no bound), newest first. "First seen" is not a change of a watched tree: a split
// says its new batches itself, and a tree walked for the first time would otherwise list every
// batch it holds.
func Changes(ctx context.Context, j *history.Journal, ids []string, since, until time.Time) ([]history.Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	evs, err := j.Events(ctx, ids, since, 0)
	if err != nil {
		return nil, err
	}
	out := evs[:0]
	for _, e := range evs {
		if e.Kind == history.KindFirstSeen || (!until.IsZero() && !e.ObservedAt.Before(until)) {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// notify counts each watch's new changes and sends every list's to its webhook. A list
// without a webhook has its changes marked sent, so that a webhook set later starts from then;
// a delivery that failed leaves them to be sent with the next poll's.
func (p *Poller) notify(ctx context.Context, watches []history.Watch) {
	until := p.cfg.Now()
	p.mu.Lock()
	counted := p.counted
	p.counted = until
	p.mu.Unlock()
	byOwner := map[string][]history.Watch{}
	var owners []string
	for _, w := range watches {
		if byOwner[w.Owner] == nil {
			owners = append(owners, w.Owner)
		}
		byOwner[w.Owner] = append(byOwner[w.Owner], w)
	}
	for _, owner := range owners {
		p.notifyOwner(ctx, owner, byOwner[owner], until, counted)
	}
}

// notifyOwner counts the new changes of one list's watches, observed before until (those
// before counted were counted already), and sends them to the list's webhook.
func (p *Poller) notifyOwner(ctx context.Context, owner string, watches []history.Watch, until, counted time.Time) {
	hook, hasHook, err := p.journal.Webhook(ctx, owner)
	if err != nil {
		p.log.Warn("watch: webhook unreadable", "err", err)
		return
	}
	payload := Payload{SentAt: until.UTC().Format(time.RFC3339)}
	var sent []string
	n := 0
	for _, w := range watches {
		ids := p.Status(w.ID).BatchIDs()
		evs, err := Changes(ctx, p.journal, ids, w.NotifiedUntil, until)
		if err != nil {
			p.log.Warn("watch: history unreadable", "err", err)
			continue
		}
		for _, e := range evs {
			if !e.ObservedAt.Before(counted) {
				p.changes.Add(1)
			}
		}
		sent = append(sent, w.ID)
		if len(evs) > 0 {
			wc := WatchChanges{WatchID: w.ID, Kind: w.Kind, Target: w.Target}
			if len(evs) > MaxPayloadEvents {
				evs, wc.Omitted = evs[:MaxPayloadEvents], len(evs)-MaxPayloadEvents
			}
			wc.Events = history.EventsJSON(evs)
			payload.Changes = append(payload.Changes, wc)
			n += len(evs)
		}
	}
	if hasHook && p.cfg.Notifier != nil && n > 0 {
		p.backoffMu.Lock()
		wait := p.backoff[owner]
		p.backoffMu.Unlock()
		if p.cfg.Now().Before(wait.until) {
			return // the receiver failed lately: its changes wait for a later poll
		}
		body, err := json.Marshal(payload)
		if err != nil {
			return
		}
		d := p.cfg.Notifier.Deliver(ctx, hook.URL, hook.Secret, body)
		// The delivery's retries may have used up ctx (or the poller be stopping): a failed
		// delivery is what its owner most needs to see, so it is recorded with a context of
		// its own, started once the delivery is over.
		rec := history.Delivery{Started: d.Started, Finished: d.Finished, Status: d.Status, Attempts: d.Attempts, OK: d.OK, Err: d.Err,
			Changes: n, URL: hook.URL}
		p.write(ctx, func(wctx context.Context) {
			if err := p.journal.RecordDelivery(wctx, owner, rec); err != nil {
				p.log.Warn("watch: delivery not recorded", "err", err)
			}
		})
		p.backoffMu.Lock()
		if d.OK {
			delete(p.backoff, owner)
		} else {
			f := p.backoff[owner].failures + 1
			p.backoff[owner] = backoffState{failures: f, until: p.cfg.Now().Add(deliveryBackoff(p.cfg.Interval, f))}
		}
		p.backoffMu.Unlock()
		if !d.OK {
			p.undelivered.Add(1)
			return // sent again, with the changes since, once the backoff has passed
		}
		p.delivered.Add(1)
	}
	// What was sent is recorded even when the poller is stopping, so that a restart does not
	// send it again.
	p.write(ctx, func(wctx context.Context) {
		for _, id := range sent {
			if err := p.journal.MarkNotified(wctx, id, until); err != nil {
				p.log.Warn("watch: not marked sent", "err", err)
			}
		}
	})
}

// recordTimeout bounds one write of what a delivery did to the journal.
var recordTimeout = 5 * time.Second

// write runs fn with a context of its own, not ended by ctx's cancellation or deadline, and
// bounded by recordTimeout from now.
func (p *Poller) write(ctx context.Context, fn func(context.Context)) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	fn(wctx)
}
