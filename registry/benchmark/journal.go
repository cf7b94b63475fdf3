package benchmark

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/cache"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// JournalResult is the cost of the history journal on one tree: cold walks with and without
// it, and the data of a warm lineage page (the walk, plus the tree's history and coverage
// read from the journal) with and without it. Each figure is the median of Rounds.
type JournalResult struct {
	Scenario Scenario
	Database string // "SQLite", or the PostgreSQL URL redacted
	Nodes    int
	Rounds   int
	// ColdWithout and ColdWith are cold walks on fresh caches, the second with every batch
	// stored handed to a fresh journal (as main wires it).
	ColdWithout, ColdWith time.Duration
	// CPUWithout and CPUWith are the process's CPU time (user and system: the walk, the demo
	// registry serving it, and the journal) from the cold walk's start until the journal had
	// recorded the tree; less moved by other work on the machine than wall time.
	CPUWithout, CPUWith time.Duration
	// CatchUp is how long after its cold walk the journal had recorded every batch.
	CatchUp time.Duration
	// WarmWithout and WarmWith are a warm page's data: the walk from the cache, and with the
	// journal also the tree's newest events and its coverage.
	WarmWithout, WarmWith time.Duration
	// The journal's counters after the last round's cold walk.
	Stats history.Stats
	// PerBatch and Grouped are the journal alone recording the tree's batches, handed to it
	// all at once, into a fresh database: one transaction per batch (Record, as the journal
	// did before it grouped), then as the worker does (Observe, in groups).
	PerBatch, Grouped time.Duration
	GroupedTx         int64 // transactions of the grouped recording
}

// ColdRatio is the cold walk's time with the journal over without it (goal ≤ 1.05).
func (r JournalResult) ColdRatio() float64 { return ratio(r.ColdWith, r.ColdWithout) }

// WarmRatio is the warm page's data with the journal over without.
func (r JournalResult) WarmRatio() float64 { return ratio(r.WarmWith, r.WarmWithout) }

// MeasureJournal walks s cold and warm, rounds times each with and without a fresh SQLite
// journal in a temporary directory (alternating which goes first), and returns the medians.
func MeasureJournal(ctx context.Context, reg *demo.Registry, s Scenario, opts Options, rounds int) (JournalResult, error) {
	return MeasureJournalOn(ctx, reg, s, opts, rounds, "")
}

// MeasureJournalOn is MeasureJournal with the journal in PostgreSQL at databaseURL ("": SQLite).
// Each fresh journal there is a schema of its own (bench_<pid>_<name>, dropped afterwards), so
// the database's other tables are left alone.
func MeasureJournalOn(ctx context.Context, reg *demo.Registry, s Scenario, opts Options, rounds int, databaseURL string) (JournalResult, error) {
	r := JournalResult{Scenario: s, Rounds: max(rounds, 1), Database: "SQLite"}
	if databaseURL != "" {
		r.Database = "PostgreSQL " + history.RedactDatabaseURL(databaseURL)
	}
	url, stop, err := demo.Start(reg)
	if err != nil {
		return r, err
	}
	defer stop()
	dir, err := os.MkdirTemp("", "bench-journal-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	open := func(name string, queue int) (*history.Journal, func(), error) {
		cfg := history.Config{QueueSize: queue}
		if databaseURL == "" {
			j, err := history.Open(ctx, filepath.Join(dir, name+".db"), cfg)
			if err != nil {
				return nil, nil, err
			}
			return j, func() { j.Close() }, nil
		}
		return openInSchema(ctx, databaseURL, fmt.Sprintf("bench_%d_%s", os.Getpid(), name), cfg)
	}
	var coldWithout, coldWith, catchUp, warmWithout, warmWith, cpuWithout, cpuWith []time.Duration
	var batches []*registry.CreditBatch
	walk := func(round int, withJournal bool) error {
		c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: url, AccessToken: demo.AccessToken,
			ClientSecret: demo.ClientSecret, Concurrency: opts.Concurrency})
		if err != nil {
			return err
		}
		cfg := cache.Config{}
		var j *history.Journal
		if withJournal {
			// The queue main gives it: the largest tree a walk shows.
			var done func()
			j, done, err = open(fmt.Sprintf("round_%d", round), 60_000)
			if err != nil {
				return err
			}
			defer done()
			cfg.OnStore = j.Observe
		}
		w := lineage.NewWalker(cache.New(c, cfg), lineage.WalkerConfig{Workers: opts.Concurrency})
		cpu0 := cpuTime()
		start := time.Now()
		tree, err := w.Lineage(ctx, s.Start, nil)
		if err != nil {
			return err
		}
		cold := time.Since(start)
		r.Nodes = tree.Len()
		if batches == nil {
			for _, n := range tree.Nodes {
				if n.Batch != nil {
					batches = append(batches, n.Batch)
				}
			}
		}
		if j != nil {
			if err := j.Flush(ctx); err != nil {
				return err
			}
			coldWith, catchUp = append(coldWith, cold), append(catchUp, time.Since(start)-cold)
			cpuWith = append(cpuWith, cpuTime()-cpu0)
			r.Stats = j.Stats()
		} else {
			coldWithout, cpuWithout = append(coldWithout, cold), append(cpuWithout, cpuTime()-cpu0)
		}
		start = time.Now()
		tree, err = w.Lineage(ctx, s.Start, nil)
		if err != nil {
			return err
		}
		if j == nil {
			warmWithout = append(warmWithout, time.Since(start))
			return nil
		}
		ids := make([]string, 0, len(tree.Nodes))
		for id := range tree.Nodes {
			ids = append(ids, id)
		}
		// What the lineage page reads: its newest 101 events and the tree's coverage.
		if _, err := j.Events(ctx, ids, time.Time{}, 101); err != nil {
			return err
		}
		if _, err := j.Coverage(ctx, ids); err != nil {
			return err
		}
		warmWith = append(warmWith, time.Since(start))
		return nil
	}
	for i := range r.Rounds {
		first := i%2 == 0
		for _, with := range []bool{first, !first} {
			if err := walk(i, with); err != nil {
				return r, err
			}
		}
	}
	r.ColdWithout, r.ColdWith, r.CatchUp = median(coldWithout), median(coldWith), median(catchUp)
	r.WarmWithout, r.WarmWith = median(warmWithout), median(warmWith)
	r.CPUWithout, r.CPUWith = median(cpuWithout), median(cpuWith)
	r.PerBatch, r.Grouped, r.GroupedTx, err = measureRecording(ctx, open, batches)
	return r, err
}

// openInSchema opens a journal in a new schema of the PostgreSQL database at databaseURL, and
// returns what closes it and drops the schema.
func openInSchema(ctx context.Context, databaseURL, schema string, cfg history.Config) (*history.Journal, func(), error) {
	db, err := sql.Open("pgx", databaseURL)
	if err != nil {
		return nil, nil, err
	}
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("%s: %w", history.RedactDatabaseURL(databaseURL), err)
	}
	drop := func() {
		_, _ = db.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		db.Close()
	}
	// search_path, sent at connection start, puts every table the journal makes in the schema.
	u := databaseURL
	if strings.Contains(u, "://") {
		if strings.Contains(u, "?") {
			u += "&search_path=" + schema
		} else {
			u += "?search_path=" + schema
		}
	} else {
		u += " search_path=" + schema
	}
	j, err := history.OpenURL(ctx, u, cfg)
	if err != nil {
		drop()
		return nil, nil, err
	}
	return j, func() { j.Close(); drop() }, nil
}

// measureRecording times a fresh journal recording batches one transaction each, and another
// recording them as the worker does, in groups.
func measureRecording(ctx context.Context, open func(string, int) (*history.Journal, func(), error), batches []*registry.CreditBatch) (perBatch, grouped time.Duration, tx int64, err error) {
	j, done, err := open("per_batch", len(batches)+1)
	if err != nil {
		return 0, 0, 0, err
	}
	at := time.Now()
	start := time.Now()
	for _, b := range batches {
		if _, err := j.Record(ctx, history.SnapshotOf(b), at); err != nil {
			done()
			return 0, 0, 0, err
		}
	}
	perBatch = time.Since(start)
	done()
	if j, done, err = open("grouped", len(batches)+1); err != nil {
		return 0, 0, 0, err
	}
	defer done()
	start = time.Now()
	for _, b := range batches {
		j.Observe(b)
	}
	if err := j.Flush(ctx); err != nil {
		return 0, 0, 0, err
	}
	return perBatch, time.Since(start), j.Stats().Groups, nil
}

// ReportJournal prints a journal measurement.
func ReportJournal(w io.Writer, opts Options, r JournalResult) {
	fmt.Fprintf(w, "\nhistory journal (%s) on the %s: %d batches, median of %d rounds\n\n", r.Database, r.Scenario.Name, r.Nodes, r.Rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tcold walk\tits CPU\twarm page data\t")
	fmt.Fprintf(tw, "without journal\t%v\t%v\t%v\t\n", round(r.ColdWithout), round(r.CPUWithout), round(r.WarmWithout))
	fmt.Fprintf(tw, "with journal\t%v\t%v\t%v\t\n", round(r.ColdWith), round(r.CPUWith), round(r.WarmWith))
	fmt.Fprintf(tw, "with/without\t%.3f×\t%.3f×\t%.3f×\t\n", r.ColdRatio(), ratio(r.CPUWith, r.CPUWithout), r.WarmRatio())
	tw.Flush()
	st := r.Stats
	fmt.Fprintf(w, "\nthe journal caught up %v after the cold walk: %d batches recorded in %d transactions, %d events, %d dropped, %d failed.\n",
		round(r.CatchUp), st.Recorded, st.Groups, st.Events, st.Dropped, st.Failed)
	fmt.Fprintf(w, "the journal alone, %d batches into an empty database: one transaction each %v; in groups %v (%d transactions), %.1f× faster.\n",
		r.Nodes, round(r.PerBatch), round(r.Grouped), r.GroupedTx, ratio(r.PerBatch, r.Grouped))
	fmt.Fprintf(w, "Goals: cold with/without ≤ 1.05×; dropped = 0. Warm page data with the journal adds the reads of the tree's history.\n")
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
