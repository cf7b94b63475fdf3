// Package history is the explorer's journal of what it has seen of the registry over time. The
// registry keeps no history (a transfer leaves no timestamp, a split only its children), so
// every batch the explorer fetches is compared with the last version recorded here, and each
// difference is appended as an event. The journal is SQLite in a file by default (the pure-Go
// driver modernc.org/sqlite, so the binary stays static), or PostgreSQL shared by replicas
// (pgx's database/sql driver); its schema is applied at open by goose from embedded migrations,
// per dialect where the SQL differs.
//
// Recording is asynchronous and best-effort: Observe never blocks (a full queue drops the batch,
// counts it and notes the gap in its history) and a failing database is reported by Health,
// never passed on to a page.
package history

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/lineage-explorer/explorer/registry"
)

//go:embed migrations
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
	Groups   int64 // transactions that recorded queued batches (each holds one or more)
	// Stale counts copies not recorded because they are older than what was recorded: a
	// split or retired batch seen with another status (another replica's, or a cache's, older
	// copy arriving after the newer one).
	Stale int64
}

// Journal records batches as they are observed and answers what changed.
type Journal struct {
	db      *sql.DB
	dialect string // dialectSQLite or dialectPostgres
	secret  string // PostgreSQL's password, scrubbed from every error the journal returns
	queue   chan item
	hurry   chan struct{} // Flush wakes the worker from waiting for more batches
	stop    chan struct{}
	done    chan struct{}
	now     func() time.Time

	recorded, events, dropped, failed, groups, stale atomic.Int64
	generation                                       atomic.Uint64

	mu      sync.Mutex
	lastErr error // the last failure, nil once a write succeeds after it
	closed  bool
	// queued counts each batch's observations waiting in the queue, so that its history can
	// say it is about to be recorded rather than never seen.
	queued map[string]int
	// gaps are observations not recorded (dropped, or their write failed) not yet written to
	// the gaps table; the next transaction writes them.
	gaps map[string]gap
}

// gap is an observation of a batch that was not recorded, and why.
type gap struct {
	reason string // GapDropped or GapFailed
	at     time.Time
}

// Why the journal holds no record of a batch, or may lack its latest change (Coverage.Gap).
const (
	GapQueued        = "queued"         // observed and waiting in this replica's queue
	GapDropped       = "dropped"        // observed while the queue was full, and not recorded
	GapFailed        = "failed"         // observed, but the database failed to record it
	GapNeverObserved = "never_observed" // not observed since the journal was kept
)

// item is one batch to record, or (flush non-nil) a marker that Flush waits for.
type item struct {
	snap  Snapshot
	at    time.Time
	flush chan struct{}
}

// A group of batches is recorded in one transaction once no batch has come for groupQuiet,
// once its first has waited groupMaxWait, once maxGroup wait (or half the queue), or at once
// when Flush asks. One transaction a batch was most of the journal's cost (a commit each, and
// PostgreSQL's fsync each). And the worker sleeps while batches keep coming, rather than waking
// for each: a cold walk against a fast registry keeps both cores busy, and the journal's work
// done beside it slowed it by a fifth; done just after it, the walk is not slowed.
const (
	maxGroup     = 4096
	groupQuiet   = 50 * time.Millisecond
	groupMaxWait = time.Second
)

// maxPendingGaps bounds the gaps kept in memory until written; past it, they are only counted.
const maxPendingGaps = 100_000

// retryEvery is how often a journal that failed tries to write again, when no batch comes to
// make it try, so that it recovers by itself.
const retryEvery = time.Second

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
	if err := migrate(ctx, db, dialectSQLite); err != nil {
		db.Close()
		return nil, fmt.Errorf("history: %q: %w", path, err)
	}
	return start(db, dialectSQLite, "", cfg, true), nil
}

// OpenURL opens the journal in the PostgreSQL database at databaseURL (DATABASE_URL: a
// postgres:// URL or a keyword/value string, as pgx reads them), applies the migrations it
// lacks and starts recording in the background. Several replicas may share the database. Its
// errors show the URL redacted (RedactDatabaseURL) and never the password; one that cannot
// connect within 10 s (or ctx) is an error.
func OpenURL(ctx context.Context, databaseURL string, cfg Config) (*Journal, error) {
	safe := RedactDatabaseURL(databaseURL)
	pc, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		// pgx redacts what it echoes; scrub anyway, with what could be the password.
		return nil, fmt.Errorf("%s: %w", safe, scrub(err, passwordOf(databaseURL)))
	}
	secret := pc.Password
	db := stdlib.OpenDB(*pc)
	// A few connections: one for the recording worker, the rest for pages reading history.
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, pgConnectWait)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: cannot connect: %w", safe, scrub(err, secret))
	}
	if err := migrate(pctx, db, dialectPostgres); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", safe, scrub(err, secret))
	}
	return start(db, dialectPostgres, secret, cfg, true), nil
}

// start makes the journal on db, its worker running when work is true.
func start(db *sql.DB, dialect, secret string, cfg Config, work bool) *Journal {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 8192
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	j := &Journal{db: db, dialect: dialect, secret: secret, queue: make(chan item, cfg.QueueSize), hurry: make(chan struct{}, 1), stop: make(chan struct{}),
		done: make(chan struct{}), now: cfg.Now, queued: map[string]int{}, gaps: map[string]gap{}}
	if work {
		go j.run()
	} else {
		close(j.done)
	}
	return j
}

// migrate applies the embedded migrations of dialect that the database lacks.
func migrate(ctx context.Context, db *sql.DB, dialect string) error {
	return migrateTo(ctx, db, dialect, -1)
}

// migrateTo applies dialect's migrations up to version (-1: all).
func migrateTo(ctx context.Context, db *sql.DB, dialect string, version int64) error {
	sub, err := migrationsFor(dialect)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(gooseDialect(dialect), db, sub)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if version < 0 {
		_, err = p.Up(ctx)
	} else {
		_, err = p.UpTo(ctx, version)
	}
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// Dialect is the journal's database: "sqlite" or "postgres".
func (j *Journal) Dialect() string { return j.dialect }

// Version is the schema version applied (the last migration's number).
func (j *Journal) Version(ctx context.Context) (int64, error) {
	var v int64
	err := j.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v)
	return v, j.scrub(err)
}

// scrub is err with the journal's password (if any) taken out of its text.
func (j *Journal) scrub(err error) error {
	if err == nil || j.secret == "" {
		return err
	}
	return scrub(err, j.secret)
}

// Observe queues b to be compared with its last recorded version. It never blocks: when the
// queue is full, b is dropped, counted (Stats.Dropped) and noted as a gap in its history.
// Safe for concurrent use; it is the cache's OnStore hook.
func (j *Journal) Observe(b *registry.CreditBatch) {
	if b == nil || b.ID == "" || b.Status == "" {
		return // nothing that could be compared (a record that could not be read)
	}
	select {
	case <-j.stop:
		return
	default:
	}
	it := item{snap: SnapshotOf(b), at: j.now()}
	j.mu.Lock()
	j.queued[b.ID]++ // before the send, so that the worker never sees it uncounted
	j.mu.Unlock()
	select {
	case j.queue <- it:
	default:
		j.dropped.Add(1)
		j.mu.Lock()
		j.unqueue(b.ID)
		j.noteGap(b.ID, GapDropped, it.at)
		j.mu.Unlock()
	}
}

// unqueue and noteGap are called with j.mu held.
func (j *Journal) unqueue(id string) {
	if j.queued[id] <= 1 {
		delete(j.queued, id)
	} else {
		j.queued[id]--
	}
}

func (j *Journal) noteGap(id, reason string, at time.Time) {
	if _, ok := j.gaps[id]; ok || len(j.gaps) < maxPendingGaps {
		j.gaps[id] = gap{reason: reason, at: at}
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
	case j.hurry <- struct{}{}: // the worker need not wait for a quiet moment
	default:
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run records the queue in groups (see maxGroup).
func (j *Journal) run() {
	defer close(j.done)
	retry := time.NewTicker(retryEvery)
	defer retry.Stop()
	wait := time.NewTimer(groupQuiet)
	wait.Stop()
	group := make([]item, 0, 256)
	for {
		group = group[:0]
		select {
		case <-j.stop:
			return
		case <-retry.C:
			if j.failing() {
				j.recordQueued(nil) // writes the gaps noted while failing, or fails again
			}
			continue
		case it := <-j.queue:
			if it.flush != nil {
				close(it.flush)
				continue
			}
			group = append(group, it)
		}
		// Sleep while batches keep coming, so as not to wake for each.
		first := time.Now()
		for {
			n := len(j.queue)
			if n >= maxGroup || n >= cap(j.queue)/2 {
				break
			}
			wait.Reset(groupQuiet)
			hurry := false
			select {
			case <-wait.C:
			case <-j.hurry:
				wait.Stop()
				hurry = true
			case <-j.stop:
				return
			}
			if hurry || len(j.queue) == n || time.Since(first) >= groupMaxWait {
				break
			}
		}
		var flush chan struct{}
	drain:
		for len(group) < maxGroup {
			select {
			case it := <-j.queue:
				if it.flush != nil {
					flush = it.flush // what came after it waits for the next group
					break drain
				}
				group = append(group, it)
			default:
				break drain
			}
		}
		j.recordQueued(group)
		if flush != nil {
			close(flush)
		}
	}
}

// failing reports whether the last write failed or gaps wait to be written.
func (j *Journal) failing() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.lastErr != nil || len(j.gaps) > 0
}

// recordQueued records a group taken from the queue, with the gaps noted so far.
func (j *Journal) recordQueued(group []item) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	j.mu.Lock()
	gaps := j.gaps
	j.gaps = map[string]gap{}
	j.mu.Unlock()
	added, err := j.write(ctx, group, gaps)
	j.mu.Lock()
	for _, it := range group {
		j.unqueue(it.snap.ID)
	}
	if err != nil {
		for id, g := range gaps {
			if _, newer := j.gaps[id]; !newer {
				j.noteGap(id, g.reason, g.at)
			}
		}
		for _, it := range group {
			j.noteGap(it.snap.ID, GapFailed, it.at)
		}
	}
	j.mu.Unlock()
	if len(group) > 0 || len(gaps) > 0 {
		j.groups.Add(1)
	}
	j.settle(len(group), added, len(gaps) > 0, err) // a failure is counted and kept for Health
}

// Record compares s with the last recorded version of its batch, in one transaction: it
// appends the events of the differences (or "first seen"), updates the batch's recorded state
// and returns the events appended. A change already recorded (by another replica, say) is not
// appended again.
func (j *Journal) Record(ctx context.Context, s Snapshot, at time.Time) ([]Event, error) {
	added, err := j.write(ctx, []item{{snap: s, at: at}}, nil)
	j.settle(1, added, false, err)
	if err != nil {
		return nil, err
	}
	return added[0], nil
}

// settle counts what one transaction of n batches did.
func (j *Journal) settle(n int, added [][]Event, wroteGaps bool, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil {
		j.failed.Add(int64(n))
		j.lastErr = err
		return
	}
	j.recorded.Add(int64(n))
	var total int
	for _, a := range added {
		total += len(a)
	}
	j.events.Add(int64(total))
	if total > 0 || wroteGaps || j.lastErr != nil {
		// Working again, or something new to say: what was rendered before must be rendered anew.
		j.generation.Add(1)
	}
	j.lastErr = nil
}

// recordedState is a batch's state as the journal holds it.
type recordedState struct {
	snap Snapshot
	at   int64 // Unix ms of the observation that recorded it
}

// The statements of a recording transaction.
const (
	insertEventSQL = `INSERT INTO events (batch_id, kind, from_value, to_value, from_label, to_label, kg, observed_at, registry_time)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (batch_id, kind, from_value, to_value) DO NOTHING`
	upsertBatchSQL = `INSERT INTO batches (id, status, owner, owner_name, beneficiary, beneficiary_name, retirement, children, kg, observed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, owner = excluded.owner, owner_name = excluded.owner_name,
			beneficiary = excluded.beneficiary, beneficiary_name = excluded.beneficiary_name, retirement = excluded.retirement,
			children = excluded.children, kg = excluded.kg, observed_at = excluded.observed_at`
	upsertGapSQL = `INSERT INTO gaps (batch_id, reason, noted_at) VALUES (?, ?, ?)
		ON CONFLICT (batch_id) DO UPDATE SET reason = excluded.reason, noted_at = excluded.noted_at`
	deleteGapSQL = `DELETE FROM gaps WHERE batch_id = ? AND noted_at <= ?`
)

// write records items and gaps in one transaction and returns, for each item, the events it
// appended. Each batch's events and its new state are written together: all of the group or
// none. Batches are taken in the order of their ids (a batch's observations in the order
// they came), so that two replicas recording overlapping groups lock rows in the same order
// and never deadlock.
func (j *Journal) write(ctx context.Context, items []item, gaps map[string]gap) (_ [][]Event, err error) {
	defer func() { err = j.scrub(err) }()
	if len(items) == 0 && len(gaps) == 0 {
		return nil, j.db.PingContext(ctx) // nothing to write: whether the database answers
	}
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if len(gaps) > 0 {
		gapStmt, err := tx.PrepareContext(ctx, j.rebind(upsertGapSQL))
		if err != nil {
			return nil, err
		}
		for _, id := range slices.Sorted(maps.Keys(gaps)) {
			if _, err := gapStmt.ExecContext(ctx, id, gaps[id].reason, gaps[id].at.UnixMilli()); err != nil {
				return nil, err
			}
		}
		gapStmt.Close()
	}
	added := make([][]Event, len(items))
	if len(items) == 0 {
		return added, tx.Commit()
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(items[a].snap.ID, items[b].snap.ID) })
	ids := make([]string, 0, len(items))
	for _, i := range order {
		if id := items[i].snap.ID; len(ids) == 0 || ids[len(ids)-1] != id {
			ids = append(ids, id)
		}
	}
	prev, gapped, err := j.loadStates(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	var evStmt, batchStmt, ungapStmt *sql.Stmt
	prepare := func(p **sql.Stmt, q string) error {
		if *p != nil {
			return nil
		}
		var err error
		*p, err = tx.PrepareContext(ctx, j.rebind(q))
		return err
	}
	defer func() {
		for _, s := range []*sql.Stmt{evStmt, batchStmt, ungapStmt} {
			if s != nil {
				s.Close()
			}
		}
	}()
	for _, i := range order {
		s, at := items[i].snap, items[i].at
		p, known := prev[s.ID]
		if gapped[s.ID] {
			// Recorded now: an earlier gap no longer means a change may be missing.
			if err := prepare(&ungapStmt, deleteGapSQL); err != nil {
				return nil, err
			}
			if _, err := ungapStmt.ExecContext(ctx, s.ID, at.UnixMilli()); err != nil {
				return nil, err
			}
		}
		if known && stale(p.snap.Status, s.Status) {
			j.stale.Add(1)
			continue // never "split → active": the record only moves forward
		}
		evs := diff(p.snap, s, known, time.UnixMilli(p.at), at)
		if len(evs) == 0 {
			continue // unchanged: nothing to write
		}
		if err := prepare(&evStmt, insertEventSQL); err != nil {
			return nil, err
		}
		for _, e := range evs {
			var rt any
			if !e.RegistryTime.IsZero() {
				rt = e.RegistryTime.UnixMilli()
			}
			res, err := evStmt.ExecContext(ctx, e.BatchID, e.Kind, e.From, e.To, e.FromLabel, e.ToLabel, e.Kg, e.ObservedAt.UnixMilli(), rt)
			if err != nil {
				return nil, err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				added[i] = append(added[i], e)
			}
		}
		if err := prepare(&batchStmt, upsertBatchSQL); err != nil {
			return nil, err
		}
		if _, err := batchStmt.ExecContext(ctx, s.ID, s.Status, s.Owner, s.OwnerName, s.Beneficiary, s.BeneficiaryName,
			s.Retirement, s.Children, s.Kg, at.UnixMilli()); err != nil {
			return nil, err
		}
		prev[s.ID] = recordedState{snap: s, at: at.UnixMilli()}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return added, nil
}

// loadStates reads the recorded states of ids, and which of them have a gap noted, in a few
// queries rather than one a batch.
func (j *Journal) loadStates(ctx context.Context, tx *sql.Tx, ids []string) (map[string]recordedState, map[string]bool, error) {
	states := make(map[string]recordedState, len(ids))
	gapped := map[string]bool{}
	for start := 0; start < len(ids); start += maxIDsPerQuery {
		chunk := ids[start:min(start+maxIDsPerQuery, len(ids))]
		args, in := anyIDs(chunk), "("+placeholders(len(chunk))+")"
		rows, err := tx.QueryContext(ctx, j.rebind(`SELECT id, status, owner, owner_name, beneficiary, beneficiary_name, retirement, children, kg, observed_at
			FROM batches WHERE id IN `+in), args...)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var st recordedState
			p := &st.snap
			if err := rows.Scan(&p.ID, &p.Status, &p.Owner, &p.OwnerName, &p.Beneficiary, &p.BeneficiaryName,
				&p.Retirement, &p.Children, &p.Kg, &st.at); err != nil {
				rows.Close()
				return nil, nil, err
			}
			states[p.ID] = st
		}
		if err := closeRows(rows); err != nil {
			return nil, nil, err
		}
		rows, err = tx.QueryContext(ctx, j.rebind(`SELECT batch_id FROM gaps WHERE batch_id IN `+in), args...)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, nil, err
			}
			gapped[id] = true
		}
		if err := closeRows(rows); err != nil {
			return nil, nil, err
		}
	}
	return states, gapped, nil
}

func closeRows(rows *sql.Rows) error {
	if err := rows.Close(); err != nil {
		return err
	}
	return rows.Err()
}

// stale reports whether a copy with status now is older than a recorded one with status was:
// split and retired are final, so a final batch seen with any other status is an old copy
// (another replica's registry answer, or one recorded late), not a change.
func stale(was, now string) bool {
	return was != now && registry.Status(was).Final()
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

// Events returns the events of the batches ids observed on or after since (zero: all),
// newest first, at most limit of them (limit <= 0: all).
func (j *Journal) Events(ctx context.Context, ids []string, since time.Time, limit int) ([]Event, error) {
	var out []Event
	for start := 0; start < len(ids); start += maxIDsPerQuery {
		chunk := ids[start:min(start+maxIDsPerQuery, len(ids))]
		args := append(anyIDs(chunk), since.UnixMilli())
		q := `SELECT batch_id, kind, from_value, to_value, from_label, to_label, kg, observed_at, registry_time
			FROM events WHERE batch_id IN (` + placeholders(len(chunk)) + `) AND observed_at >= ?
			ORDER BY observed_at DESC, seq`
		if since.IsZero() {
			args[len(args)-1] = int64(0)
		}
		if limit > 0 {
			q += " LIMIT " + strconv.Itoa(limit)
		}
		rows, err := j.db.QueryContext(ctx, j.rebind(q), args...)
		if err != nil {
			err = j.scrub(err)
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
				return nil, j.scrub(err)
			}
			e.ObservedAt = time.UnixMilli(obs).UTC()
			if rt.Valid {
				e.RegistryTime = time.UnixMilli(rt.Int64).UTC()
			}
			out = append(out, e)
		}
		if err := closeRows(rows); err != nil {
			return nil, j.scrub(err)
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
		return fmt.Errorf("the database does not answer: %w", j.scrub(err))
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
	return Stats{Recorded: j.recorded.Load(), Events: j.events.Load(), Dropped: j.dropped.Load(), Failed: j.failed.Load(),
		Groups: j.groups.Load(), Stale: j.stale.Load()}
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
