// Package history is the explorer's journal of what it has seen of the registry over time. The
// registry keeps no history (a transfer leaves no timestamp, a split only its children), so
// every batch the explorer fetches is compared with the last version recorded here, and each
// difference is appended as an event. The journal is SQLite in a file (the pure-Go driver
// modernc.org/sqlite, so the binary stays static), its schema applied at open by goose from
// embedded migrations.
//
// Recording is asynchronous and best-effort: Observe never blocks (a full queue drops the batch
// and counts it) and a failing database is reported by Health, never passed on to a page.
package history

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/lineage-explorer/explorer/registry"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the journal's file inside the data directory.
const FileName = "history.db"

// Kinds of event. From and To hold the values compared (ids, statuses, kg as decimal text);
// the labels hold the names shown for ids.
const (
	KindFirstSeen   = "first_seen"  // the batch was recorded for the first time; To is its status
	KindStatus      = "status"      // active → split or retired
	KindOwner       = "owner"       // the holder changed (organisation ids)
	KindBeneficiary = "beneficiary" // the beneficiary changed (organisation ids)
	KindRetirement  = "retirement"  // the retirement it belongs to changed (retirement ids)
	KindChildren    = "children"    // its children changed: "left right", "" when none
	KindKg          = "kg"          // its size changed, in kg
)

// Event is one change of one batch, as observed.
type Event struct {
	BatchID   string
	Kind      string // one of the Kind constants
	From, To  string // the values compared; "" for none
	FromLabel string // the name of From where it is an organisation, else ""
	ToLabel   string // the name of To where it is an organisation; for a retirement, the beneficiary's name
	// Kg is the batch's size when the change was observed, in kg.
	Kg int64
	// ObservedAt is when the explorer saw the change: the change happened at or before it,
	// after the previous observation.
	ObservedAt time.Time
	// RegistryTime is the registry's own time of the change where the record has one
	// (retired_at for a retirement, delivered_at for a change of holder when it is later than
	// the observation before); zero otherwise.
	RegistryTime time.Time
}

// FromKg and ToKg are From and To of a KindKg event as kg (0 when absent or not a number).
func (e Event) FromKg() int64 { n, _ := strconv.ParseInt(e.From, 10, 64); return n }

// ToKg: see FromKg.
func (e Event) ToKg() int64 { n, _ := strconv.ParseInt(e.To, 10, 64); return n }

// Snapshot is the part of a batch the journal compares.
type Snapshot struct {
	ID              string
	Status          string
	Owner           string // organisation id
	OwnerName       string
	Beneficiary     string // organisation id, "" when none
	BeneficiaryName string
	Retirement      string // retirement id, "" when none
	Children        string // "left right", "" when none
	Kg              int64
	RetiredAt       time.Time // the registry's retired_at; zero when none
	DeliveredAt     time.Time // the registry's delivered_at; zero when none
}

// SnapshotOf is what the journal records of b.
func SnapshotOf(b *registry.CreditBatch) Snapshot {
	s := Snapshot{ID: b.ID, Status: string(b.Status), Owner: b.Owner.ID, OwnerName: b.Owner.Name,
		Retirement: b.RetirementID, Kg: b.Size.CreditKgs, RetiredAt: b.RetiredAt.Time, DeliveredAt: b.DeliveredAt.Time}
	if b.Beneficiary != nil {
		s.Beneficiary, s.BeneficiaryName = b.Beneficiary.ID, b.Beneficiary.Name
	}
	if b.LeftChildID != "" || b.RightChildID != "" {
		s.Children = strings.TrimSpace(b.LeftChildID + " " + b.RightChildID)
	}
	return s
}

// Config tunes a Journal. Zero values take the defaults.
type Config struct {
	// QueueSize bounds the batches waiting to be recorded; past it Observe drops. Default 8192.
	QueueSize int
	// Now is the clock of observations. Default time.Now.
	Now func() time.Time
}

// Stats are a journal's counters since it opened.
type Stats struct {
	Recorded int64 // batches compared and recorded
	Events   int64 // events appended
	Dropped  int64 // batches not recorded because the queue was full
	Failed   int64 // batches not recorded because the database failed
}

// Journal records batches as they are observed and answers what changed.
type Journal struct {
	db    *sql.DB
	queue chan item
	stop  chan struct{}
	done  chan struct{}
	now   func() time.Time

	recorded, events, dropped, failed atomic.Int64
	generation                        atomic.Uint64

	mu      sync.Mutex
	lastErr error // the last failure, nil once a write succeeds after it
	closed  bool
}

// item is one batch to record, or (flush non-nil) a marker that Flush waits for.
type item struct {
	snap  Snapshot
	at    time.Time
	flush chan struct{}
}

// OpenDir creates dir if needed, checks that it is writable and opens the journal in it
// (FileName). Its errors name dir.
func OpenDir(ctx context.Context, dir string, cfg Config) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("cannot create %q: %w", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return nil, fmt.Errorf("%q is not writable: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return Open(ctx, filepath.Join(dir, FileName), cfg)
}

// Open opens (creating it if needed) the journal in the SQLite file at path, applies the
// migrations it lacks and starts recording in the background. Close stops it.
func Open(ctx context.Context, path string, cfg Config) (*Journal, error) {
	// WAL lets pages read while a batch is being recorded; busy_timeout waits out another
	// process's write rather than failing at once.
	dsn := "file:" + filepath.ToSlash(path) + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("history: open %q: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("history: %q: %w", path, err)
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 8192
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	j := &Journal{db: db, queue: make(chan item, cfg.QueueSize), stop: make(chan struct{}),
		done: make(chan struct{}), now: cfg.Now}
	go j.run()
	return j, nil
}

// migrate applies the embedded migrations the database lacks.
func migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// Version is the schema version applied (the last migration's number).
func (j *Journal) Version(ctx context.Context) (int64, error) {
	var v int64
	err := j.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v)
	return v, err
}

// Observe queues b to be compared with its last recorded version. It never blocks: when the
// queue is full, b is dropped and counted (Stats.Dropped). Safe for concurrent use; it is the
// cache's OnStore hook.
func (j *Journal) Observe(b *registry.CreditBatch) {
	if b == nil || b.ID == "" || b.Status == "" {
		return // nothing that could be compared (a record that could not be read)
	}
	select {
	case <-j.stop:
		return
	default:
	}
	select {
	case j.queue <- item{snap: SnapshotOf(b), at: j.now()}:
	default:
		j.dropped.Add(1)
	}
}

// Flush waits until every batch queued before it has been recorded (or has failed), or ctx
// ends. For tests and shutdown.
func (j *Journal) Flush(ctx context.Context) error {
	ch := make(chan struct{})
	select {
	case j.queue <- item{flush: ch}:
	case <-j.stop:
		return errors.New("history: journal closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (j *Journal) run() {
	defer close(j.done)
	for {
		select {
		case <-j.stop:
			return
		case it := <-j.queue:
			if it.flush != nil {
				close(it.flush)
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, _ = j.Record(ctx, it.snap, it.at) // a failure is counted and kept for Health
			cancel()
		}
	}
}

// Record compares s with the last recorded version of its batch, in one transaction: it
// appends the events of the differences (or "first seen"), updates the batch's recorded state
// and returns the events appended. A change already recorded (by another replica, say) is not
// appended again.
func (j *Journal) Record(ctx context.Context, s Snapshot, at time.Time) (_ []Event, err error) {
	defer func() {
		j.mu.Lock()
		defer j.mu.Unlock()
		if err != nil {
			j.failed.Add(1)
			j.lastErr = err
			return
		}
		j.recorded.Add(1)
		if j.lastErr != nil {
			// Working again: what was rendered while it failed must be rendered anew.
			j.generation.Add(1)
			j.lastErr = nil
		}
	}()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var prev Snapshot
	var known bool
	var prevAt int64
	row := tx.QueryRowContext(ctx, `SELECT status, owner, owner_name, beneficiary, beneficiary_name, retirement, children, kg, observed_at
		FROM batches WHERE id = ?`, s.ID)
	switch err := row.Scan(&prev.Status, &prev.Owner, &prev.OwnerName, &prev.Beneficiary, &prev.BeneficiaryName,
		&prev.Retirement, &prev.Children, &prev.Kg, &prevAt); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, err
	default:
		known = true
	}
	evs := diff(prev, s, known, time.UnixMilli(prevAt), at)
	if len(evs) == 0 {
		return nil, tx.Commit() // unchanged: nothing to write
	}
	var added []Event
	for _, e := range evs {
		var rt any
		if !e.RegistryTime.IsZero() {
			rt = e.RegistryTime.UnixMilli()
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO events (batch_id, kind, from_value, to_value, from_label, to_label, kg, observed_at, registry_time)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (batch_id, kind, from_value, to_value) DO NOTHING`,
			e.BatchID, e.Kind, e.From, e.To, e.FromLabel, e.ToLabel, e.Kg, e.ObservedAt.UnixMilli(), rt)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			added = append(added, e)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO batches (id, status, owner, owner_name, beneficiary, beneficiary_name, retirement, children, kg, observed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, owner = excluded.owner, owner_name = excluded.owner_name,
			beneficiary = excluded.beneficiary, beneficiary_name = excluded.beneficiary_name, retirement = excluded.retirement,
			children = excluded.children, kg = excluded.kg, observed_at = excluded.observed_at`,
		s.ID, s.Status, s.Owner, s.OwnerName, s.Beneficiary, s.BeneficiaryName, s.Retirement, s.Children, s.Kg, at.UnixMilli()); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	j.events.Add(int64(len(added)))
	if len(added) > 0 {
		j.generation.Add(1)
	}
	return added, nil
}

// diff is the events that turn prev, observed at prevAt, into s, observed at at (known false:
// s is seen for the first time).
func diff(prev, s Snapshot, known bool, prevAt, at time.Time) []Event {
	ev := func(kind, from, to string) Event {
		return Event{BatchID: s.ID, Kind: kind, From: from, To: to, Kg: s.Kg, ObservedAt: at.UTC()}
	}
	if !known {
		e := ev(KindFirstSeen, "", s.Status)
		return []Event{e}
	}
	var out []Event
	if prev.Status != s.Status {
		e := ev(KindStatus, prev.Status, s.Status)
		if s.Status == string(registry.StatusRetired) {
			e.RegistryTime, e.ToLabel = s.RetiredAt.UTC(), s.BeneficiaryName
		}
		out = append(out, e)
	}
	if prev.Owner != s.Owner {
		e := ev(KindOwner, prev.Owner, s.Owner)
		e.FromLabel, e.ToLabel = prev.OwnerName, s.OwnerName
		if s.DeliveredAt.After(prevAt) {
			// delivered_at dates this change only when it is newer than what was seen before;
			// a transfer after a delivery leaves the delivery's date on the record.
			e.RegistryTime = s.DeliveredAt.UTC()
		}
		out = append(out, e)
	}
	if prev.Beneficiary != s.Beneficiary {
		e := ev(KindBeneficiary, prev.Beneficiary, s.Beneficiary)
		e.FromLabel, e.ToLabel = prev.BeneficiaryName, s.BeneficiaryName
		out = append(out, e)
	}
	if prev.Retirement != s.Retirement {
		e := ev(KindRetirement, prev.Retirement, s.Retirement)
		e.RegistryTime = s.RetiredAt.UTC()
		out = append(out, e)
	}
	if prev.Children != s.Children {
		out = append(out, ev(KindChildren, prev.Children, s.Children))
	}
	if prev.Kg != s.Kg {
		out = append(out, ev(KindKg, strconv.FormatInt(prev.Kg, 10), strconv.FormatInt(s.Kg, 10)))
	}
	return out
}

// maxIDsPerQuery keeps each query's parameters well under SQLite's limit.
const maxIDsPerQuery = 500

// Events returns the events of the batches ids observed on or after since (zero: all),
// newest first, at most limit of them (limit <= 0: all).
func (j *Journal) Events(ctx context.Context, ids []string, since time.Time, limit int) ([]Event, error) {
	var out []Event
	for start := 0; start < len(ids); start += maxIDsPerQuery {
		chunk := ids[start:min(start+maxIDsPerQuery, len(ids))]
		args := make([]any, 0, len(chunk)+1)
		for _, id := range chunk {
			args = append(args, id)
		}
		args = append(args, since.UnixMilli())
		q := `SELECT batch_id, kind, from_value, to_value, from_label, to_label, kg, observed_at, registry_time
			FROM events WHERE batch_id IN (?` + strings.Repeat(",?", len(chunk)-1) + `) AND observed_at >= ?
			ORDER BY observed_at DESC, seq`
		if since.IsZero() {
			args[len(args)-1] = int64(0)
		}
		if limit > 0 {
			q += " LIMIT " + strconv.Itoa(limit)
		}
		rows, err := j.db.QueryContext(ctx, q, args...)
		if err != nil {
			if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
				j.fail(err) // a reader that left says nothing of the database; one that timed out does
			}
			return nil, err
		}
		for rows.Next() {
			var e Event
			var obs int64
			var rt sql.NullInt64
			if err := rows.Scan(&e.BatchID, &e.Kind, &e.From, &e.To, &e.FromLabel, &e.ToLabel, &e.Kg, &obs, &rt); err != nil {
				rows.Close()
				return nil, err
			}
			e.ObservedAt = time.UnixMilli(obs).UTC()
			if rt.Valid {
				e.RegistryTime = time.UnixMilli(rt.Int64).UTC()
			}
			out = append(out, e)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	// Chunks come back each newest first; merge them into one order.
	sortNewestFirst(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// sortNewestFirst orders events by observation, newest first; events observed together keep
// the order they were recorded in (status first).
func sortNewestFirst(evs []Event) {
	slices.SortStableFunc(evs, func(a, b Event) int { return b.ObservedAt.Compare(a.ObservedAt) })
}

func (j *Journal) fail(err error) {
	j.mu.Lock()
	j.lastErr = err
	j.mu.Unlock()
}

// Health is nil when the journal works, else why it does not, in words fit for /readyz. It
// pings the database (bounded by ctx) and reports the last failure until a write succeeds.
func (j *Journal) Health(ctx context.Context) error {
	j.mu.Lock()
	closed, last := j.closed, j.lastErr
	j.mu.Unlock()
	if closed {
		return errors.New("the journal is closed")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := j.db.PingContext(ctx); err != nil {
		return fmt.Errorf("the database does not answer: %w", err)
	}
	if last != nil {
		return fmt.Errorf("the last write failed: %w", last)
	}
	return nil
}

// Generation changes whenever events are appended and when the journal works again after a
// failure, so that a page rendered from the journal can be kept until it does.
func (j *Journal) Generation() uint64 { return j.generation.Load() }

// Stats returns the journal's counters.
func (j *Journal) Stats() Stats {
	return Stats{Recorded: j.recorded.Load(), Events: j.events.Load(), Dropped: j.dropped.Load(), Failed: j.failed.Load()}
}

// Close stops recording (what is still queued is not recorded) and closes the database.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	j.mu.Unlock()
	close(j.stop)
	<-j.done
	return j.db.Close()
}
