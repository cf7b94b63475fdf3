package lineage

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"time"

	gocache "github.com/patrickmn/go-cache"

	"github.com/lineage-explorer/explorer/registry"
)

// An issuance's or a retirement's page needs many trees (an issuance has dozens to hundreds of
// roots), so its report is built in the background like a lineage walk: one job per id, shared
// by every request for it, detached from the request that started it (what it fetches fills the
// cache either way), bounded by ExplorerConfig.WalkTimeout and kept KeepFinished after it ends
// so that a progress page polling it finds the result.

// ReportJob is a report (an *IssuanceReport or a *RetirementReport) being built in the
// background. Its methods are safe for concurrent use.
type ReportJob[T any] struct {
	ID      string    // the issuance ("iss_…") or retirement ("ret_…") id
	Started time.Time // when the job started
	// Walk numbers the job among the process's jobs of its kind (from 1), so that a progress
	// page can come back for the job it showed, whatever became of it (see follow).
	Walk uint64

	// own counts the fetches the job makes itself (records, a retirement's climbs).
	own  Progress
	done chan struct{}

	mu       sync.Mutex
	walks    []*LineageJob // the lineage walks it waits for (an issuance's trees)
	pending  int64         // trees known but not started yet, counted as one batch each
	result   T
	err      error
	finished time.Time
}

// Done is closed when the report is ready (or has failed).
func (j *ReportJob[T]) Done() <-chan struct{} { return j.done }

// Result returns the report or what stopped it; call it after Done is closed. The error wraps
// the package's sentinel errors (ErrInvalid for a malformed id, ErrNotFound for an unknown one,
// ErrCredentials, ErrThrottled, ErrUnavailable), or context.DeadlineExceeded past WalkTimeout.
func (j *ReportJob[T]) Result() (T, error) {
	<-j.done
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.result, j.err
}

// Fetched is the number of batches (and records) obtained so far, by the job and by the
// lineage walks it waits for.
func (j *ReportJob[T]) Fetched() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := j.own.Fetched()
	for _, w := range j.walks {
		n += w.Progress.Fetched()
	}
	return n
}

// Discovered is the number of batches (and records) known so far, fetched or still to fetch;
// a tree not started yet counts as one.
func (j *ReportJob[T]) Discovered() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := j.own.Discovered() + j.pending
	for _, w := range j.walks {
		n += w.Progress.Discovered()
	}
	return n
}

// expect records that n more trees will be walked.
func (j *ReportJob[T]) expect(n int) {
	j.mu.Lock()
	j.pending += int64(n)
	j.mu.Unlock()
}

// follow adds a lineage walk to the job's progress, in place of one tree expected.
func (j *ReportJob[T]) follow(w *LineageJob) {
	j.mu.Lock()
	j.walks = append(j.walks, w)
	j.pending--
	j.mu.Unlock()
}

// reportJobs runs the jobs of one kind of report, one per id.
type reportJobs[T any] struct {
	keep    time.Duration // how long a finished job stays (ExplorerConfig.KeepFinished)
	timeout time.Duration // bound of one job (ExplorerConfig.WalkTimeout)
	build   func(ctx context.Context, j *ReportJob[T], fresh bool) (T, error)
	partial func(T) bool // the report leaves out what the registry failed to send

	mu     sync.Mutex
	jobs   map[string]*ReportJob[T] // by id: the job requests join or are served
	byWalk map[uint64]*ReportJob[T] // by Walk: every job running or finished within keep
	walks  uint64
}

// start starts the job of id, or joins the one under way or finished within keep. fresh drops
// a finished job first, so that a retry builds the report again. A job that failed, or whose
// report is partial, goes only to the requests that were waiting for it (and to follow): the
// next request builds the report again.
func (s *reportJobs[T]) start(id string, fresh bool) *ReportJob[T] {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for k, j := range s.jobs {
		if !j.finished.IsZero() && now.Sub(j.finished) > s.keep {
			delete(s.jobs, k)
		}
	}
	for k, j := range s.byWalk {
		if !j.finished.IsZero() && now.Sub(j.finished) > s.keep {
			delete(s.byWalk, k)
		}
	}
	if j, ok := s.jobs[id]; ok && !(fresh && !j.finished.IsZero()) {
		return j
	}
	s.walks++
	j := &ReportJob[T]{ID: id, Started: now, Walk: s.walks, done: make(chan struct{})}
	s.jobs[id], s.byWalk[j.Walk] = j, j
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		defer cancel()
		v, err := s.build(ctx, j, fresh)
		s.mu.Lock()
		j.finished = time.Now()
		if ((err != nil && !definitive(err)) || (err == nil && s.partial(v))) && s.jobs[id] == j {
			delete(s.jobs, id)
		}
		s.mu.Unlock()
		j.mu.Lock()
		j.result, j.err = v, err
		j.mu.Unlock()
		close(j.done)
	}()
	return j
}

// follow returns the job numbered walk when it is of id and still known (under way, or
// finished within keep), whatever its outcome, for the progress page that showed it;
// otherwise start(id, false).
func (s *reportJobs[T]) follow(id string, walk uint64) *ReportJob[T] {
	s.mu.Lock()
	j := s.byWalk[walk]
	s.mu.Unlock()
	if j != nil && j.ID == id {
		return j
	}
	return s.start(id, false)
}

// reportSet is the Explorer's reports under way and the records they start from.
type reportSet struct {
	issuances   *reportJobs[*IssuanceReport]
	retirements *reportJobs[*RetirementReport]
	records     *recordCache
	issuanceTTL time.Duration // how long an issuance's record and root list are trusted (CACHE_TTL)
}

func newReportSet(e *Explorer) *reportSet {
	ttl := cmp.Or(max(e.cfg.Cache.TTL, 0), 5*time.Minute)
	return &reportSet{
		issuances: &reportJobs[*IssuanceReport]{keep: e.cfg.KeepFinished, timeout: e.cfg.WalkTimeout,
			build: e.buildIssuanceReport, partial: func(r *IssuanceReport) bool { return r != nil && r.FetchFailed > 0 },
			jobs: map[string]*ReportJob[*IssuanceReport]{}, byWalk: map[uint64]*ReportJob[*IssuanceReport]{}},
		retirements: &reportJobs[*RetirementReport]{keep: e.cfg.KeepFinished, timeout: e.cfg.WalkTimeout,
			build: e.buildRetirementReport, partial: func(r *RetirementReport) bool { return r != nil && r.FetchFailed > 0 },
			jobs: map[string]*ReportJob[*RetirementReport]{}, byWalk: map[uint64]*ReportJob[*RetirementReport]{}},
		records:     newRecordCache(ttl),
		issuanceTTL: ttl,
	}
}

// recordCache keeps the issuance and retirement records a report starts from, so that a warm
// page needs no upstream call: an issuance with its roots' ids (the roots themselves are in the
// Cache, and may change), a retirement with its batches (retired, so final). A few kB each.
type recordCache struct {
	items *gocache.Cache
	max   int
	mu    sync.Mutex // serialises the bound check
}

// maxRecords bounds the records kept; past it a quarter of them are dropped (they are fetched
// again when asked for).
const maxRecords = 20_000

func newRecordCache(ttl time.Duration) *recordCache {
	return &recordCache{items: gocache.New(ttl, min(ttl, time.Minute)), max: maxRecords}
}

// recordOrFetch returns the record under key, or fetches it and keeps it for ttl (gocache.NoExpiration
// for a record that cannot change). Errors are never kept.
func recordOrFetch[T any](ctx context.Context, r *recordCache, key string, ttl time.Duration, fetch func(context.Context) (T, error)) (T, error) {
	if v, ok := r.items.Get(key); ok {
		return v.(T), nil
	}
	v, err := fetch(ctx)
	if err != nil {
		return v, err
	}
	r.mu.Lock()
	if r.items.ItemCount() >= r.max {
		n := r.max / 4
		for k := range r.items.Items() {
			if n <= 0 {
				break
			}
			r.items.Delete(k)
			n--
		}
	}
	r.items.Set(key, v, ttl)
	r.mu.Unlock()
	return v, nil
}

// definitive reports whether err is the registry's final word (no such id, a malformed one)
// rather than its passing trouble: such an outcome is kept as a result is, for KeepFinished,
// while a transient failure goes only to the requests that waited for it.
func definitive(err error) bool {
	return errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrInvalid)
}
