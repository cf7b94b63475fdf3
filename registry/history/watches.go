package history

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

// What a watch follows. Each is polled as the trees that hold it.
const (
	WatchBatch    = "batch"    // a credit batch id: its whole tree
	WatchIssuance = "issuance" // an issuance id: the trees of its root batches
	WatchSerial   = "serial"   // a serial number: the tree of the batch that holds it
)

// ErrWatchNotFound is returned for a watch that does not exist or belongs to another owner:
// the two are one answer, so that ids do not leak. It wraps registry.ErrNotFound.
var ErrWatchNotFound = fmt.Errorf("watch: %w", registry.ErrNotFound)

// Watch is one thing a user watches.
type Watch struct {
	ID     string // random text, 26 characters
	Owner  string // the signed-in user; "" is the instance's list (AUTH_MODE=none)
	Kind   string // WatchBatch, WatchIssuance or WatchSerial
	Target string // the id or serial number watched, as canonical text
	// Created is when the watch was added; LastVisited when its owner last opened /watch (the
	// changes observed since are "new"); NotifiedUntil the observation time up to which its
	// changes were offered to the list's webhook.
	Created, LastVisited, NotifiedUntil time.Time
}

// Webhook is where a watch list's changes are sent. Secret signs each delivery and is never
// shown back.
type Webhook struct {
	Owner   string
	URL     string
	Secret  []byte
	Created time.Time
}

// Delivery is one recorded delivery to a list's webhook.
type Delivery struct {
	Started, Finished time.Time
	Status            int    // the HTTP status of the last attempt; 0 when none answered
	Attempts          int    // requests made, retries included
	OK                bool   // the webhook accepted it
	Err               string // why not, safe to show (no secret)
	Changes           int    // events it carried
	// URL is where it was sent. It is not kept: RecordDelivery records a delivery only while
	// URL is still its owner's webhook (a delivery is "" to record it whatever the webhook), so
	// that the deliveries listed are all to the webhook shown.
	URL string
}

// newID is 128 random bits as text: ids that cannot be guessed.
func newID() string { return rand.Text() }

// AddWatch adds a watch of target (kind a Watch constant) for owner, observed from at, and
// returns it; a watch owner already has of the same thing is returned as it is.
func (j *Journal) AddWatch(ctx context.Context, owner, kind, target string, at time.Time) (Watch, error) {
	w := Watch{ID: newID(), Owner: owner, Kind: kind, Target: target, Created: at, LastVisited: at, NotifiedUntil: at}
	ms := at.UnixMilli()
	_, err := j.db.ExecContext(ctx, j.rebind(`INSERT INTO watches (id, owner, kind, target, created_at, last_visited, notified_until)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (owner, kind, target) DO NOTHING`), w.ID, owner, kind, target, ms, ms, ms)
	if err != nil {
		return Watch{}, err
	}
	row := j.db.QueryRowContext(ctx, j.rebind(`SELECT `+watchColumns+` FROM watches WHERE owner = ? AND kind = ? AND target = ?`), owner, kind, target)
	return scanWatch(row)
}

const watchColumns = `id, owner, kind, target, created_at, last_visited, notified_until`

type scanner interface{ Scan(dest ...any) error }

func scanWatch(row scanner) (Watch, error) {
	var w Watch
	var created, visited, notified int64
	if err := row.Scan(&w.ID, &w.Owner, &w.Kind, &w.Target, &created, &visited, &notified); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Watch{}, ErrWatchNotFound
		}
		return Watch{}, err
	}
	w.Created, w.LastVisited, w.NotifiedUntil = time.UnixMilli(created).UTC(), time.UnixMilli(visited).UTC(), time.UnixMilli(notified).UTC()
	return w, nil
}

func (j *Journal) queryWatches(ctx context.Context, q string, args ...any) ([]Watch, error) {
	rows, err := j.db.QueryContext(ctx, j.rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Watch
	for rows.Next() {
		w, err := scanWatch(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// Watches is owner's watch list, oldest first.
func (j *Journal) Watches(ctx context.Context, owner string) ([]Watch, error) {
	return j.queryWatches(ctx, `SELECT `+watchColumns+` FROM watches WHERE owner = ? ORDER BY created_at, id`, owner)
}

// AllWatches is every owner's watches, for the poller.
func (j *Journal) AllWatches(ctx context.Context) ([]Watch, error) {
	return j.queryWatches(ctx, `SELECT `+watchColumns+` FROM watches ORDER BY owner, created_at, id`)
}

// Watch returns owner's watch id; another owner's is ErrWatchNotFound, as a missing one is.
func (j *Journal) Watch(ctx context.Context, owner, id string) (Watch, error) {
	return scanWatch(j.db.QueryRowContext(ctx, j.rebind(`SELECT `+watchColumns+` FROM watches WHERE id = ? AND owner = ?`), id, owner))
}

// DeleteWatch removes owner's watch id; another owner's is ErrWatchNotFound and stays.
func (j *Journal) DeleteWatch(ctx context.Context, owner, id string) error {
	res, err := j.db.ExecContext(ctx, j.rebind(`DELETE FROM watches WHERE id = ? AND owner = ?`), id, owner)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrWatchNotFound
	}
	return nil
}

// MarkVisited records that owner opened their watch list at at: the changes observed until
// then are no longer new.
func (j *Journal) MarkVisited(ctx context.Context, owner string, at time.Time) error {
	// Times are kept in milliseconds, so a change observed in the very millisecond of a visit
	// is listed by that visit and the next: listed twice rather than never.
	_, err := j.db.ExecContext(ctx, j.rebind(`UPDATE watches SET last_visited = ? WHERE owner = ? AND last_visited < ?`),
		at.UnixMilli(), owner, at.UnixMilli())
	return err
}

// MarkNotified records that watch id's changes observed before until were offered to its
// list's webhook.
func (j *Journal) MarkNotified(ctx context.Context, id string, until time.Time) error {
	_, err := j.db.ExecContext(ctx, j.rebind(`UPDATE watches SET notified_until = ? WHERE id = ? AND notified_until < ?`),
		until.UnixMilli(), id, until.UnixMilli())
	return err
}

// SetWebhook sets (or replaces) owner's webhook. A new URL clears the deliveries recorded:
// they went elsewhere, and the page lists deliveries under the webhook it shows; the same URL
// with a new secret keeps them.
func (j *Journal) SetWebhook(ctx context.Context, owner, url string, secret []byte, at time.Time) error {
	if _, err := j.db.ExecContext(ctx, j.rebind(`DELETE FROM watch_deliveries WHERE owner = ?
		AND NOT EXISTS (SELECT 1 FROM watch_webhooks WHERE owner = ? AND url = ?)`), owner, owner, url); err != nil {
		return err
	}
	_, err := j.db.ExecContext(ctx, j.rebind(`INSERT INTO watch_webhooks (owner, url, secret, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (owner) DO UPDATE SET url = excluded.url, secret = excluded.secret, created_at = excluded.created_at`),
		owner, url, string(secret), at.UnixMilli())
	return err
}

// Webhook returns owner's webhook; ok is false when they have none.
func (j *Journal) Webhook(ctx context.Context, owner string) (_ Webhook, ok bool, _ error) {
	var h Webhook
	var secret string
	var created int64
	err := j.db.QueryRowContext(ctx, j.rebind(`SELECT owner, url, secret, created_at FROM watch_webhooks WHERE owner = ?`), owner).
		Scan(&h.Owner, &h.URL, &secret, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Webhook{}, false, nil
	case err != nil:
		return Webhook{}, false, err
	}
	h.Secret, h.Created = []byte(secret), time.UnixMilli(created).UTC()
	return h, true, nil
}

// DeleteWebhook removes owner's webhook (nothing when they have none) and its deliveries.
func (j *Journal) DeleteWebhook(ctx context.Context, owner string) error {
	if _, err := j.db.ExecContext(ctx, j.rebind(`DELETE FROM watch_deliveries WHERE owner = ?`), owner); err != nil {
		return err
	}
	_, err := j.db.ExecContext(ctx, j.rebind(`DELETE FROM watch_webhooks WHERE owner = ?`), owner)
	return err
}

// RecordDelivery appends a delivery to owner's webhook; one to a URL that is no longer their
// webhook (d.URL, changed while it was under way) is dropped.
func (j *Journal) RecordDelivery(ctx context.Context, owner string, d Delivery) error {
	if d.URL != "" {
		switch h, ok, err := j.Webhook(ctx, owner); {
		case err != nil:
			return err
		case !ok || h.URL != d.URL:
			return nil
		}
	}
	ok := 0
	if d.OK {
		ok = 1
	}
	_, err := j.db.ExecContext(ctx, j.rebind(`INSERT INTO watch_deliveries (id, owner, started_at, finished_at, status, attempts, ok, error, changes)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), newID(), owner, d.Started.UnixMilli(), d.Finished.UnixMilli(),
		int64(d.Status), int64(d.Attempts), ok, d.Err, int64(d.Changes))
	return err
}

// Deliveries returns owner's last deliveries, newest first, at most limit.
func (j *Journal) Deliveries(ctx context.Context, owner string, limit int) ([]Delivery, error) {
	rows, err := j.db.QueryContext(ctx, j.rebind(`SELECT started_at, finished_at, status, attempts, ok, error, changes
		FROM watch_deliveries WHERE owner = ? ORDER BY started_at DESC, finished_at DESC LIMIT ?`), owner, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var started, finished, status, attempts, ok, changes int64
		if err := rows.Scan(&started, &finished, &status, &attempts, &ok, &d.Err, &changes); err != nil {
			return nil, err
		}
		d.Started, d.Finished = time.UnixMilli(started).UTC(), time.UnixMilli(finished).UTC()
		d.Status, d.Attempts, d.OK, d.Changes = int(status), int(attempts), ok == 1, int(changes)
		out = append(out, d)
	}
	return out, rows.Err()
}
