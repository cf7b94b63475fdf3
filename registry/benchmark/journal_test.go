package benchmark_test

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/benchmark"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/history/pgserver"
)

// The journal scenario walks the whole wide tree with the journal, records every batch of it
// without dropping one, in far fewer transactions than batches, and prints the ratios.
func TestMeasureJournalRecordsTheTreeInGroups(t *testing.T) {
	reg := demo.New(demo.Options{})
	f := reg.Fixtures()
	r, err := benchmark.MeasureJournal(context.Background(), reg, benchmark.Scenario{Name: "wide", Start: f.WideLeafDeep},
		benchmark.Options{Latency: time.Millisecond, Concurrency: 8}, 1)
	if err != nil {
		t.Fatal(err)
	}
	st := r.Stats
	if r.Nodes != f.WideNodeCount || st.Recorded != int64(r.Nodes) || st.Events != int64(r.Nodes) || st.Dropped != 0 || st.Failed != 0 {
		t.Fatalf("%d nodes, journal %+v; want all %d batches recorded, each first seen once", r.Nodes, st, f.WideNodeCount)
	}
	if st.Groups == 0 || st.Groups >= st.Recorded || r.GroupedTx == 0 || r.GroupedTx >= int64(r.Nodes) {
		t.Errorf("%d transactions for %d batches in the walk, %d for the tree at once: want them recorded in groups", st.Groups, st.Recorded, r.GroupedTx)
	}
	if r.ColdWith <= 0 || r.ColdWithout <= 0 || r.PerBatch <= 0 || r.Grouped <= 0 {
		t.Errorf("a time not measured: %+v", r)
	}
	var out bytes.Buffer
	benchmark.ReportJournal(&out, benchmark.Options{}, r)
	if !strings.Contains(out.String(), "with/without") || !strings.Contains(out.String(), "0 dropped") {
		t.Errorf("report:\n%s", out.String())
	}
}

// The same scenario with the journal in a real PostgreSQL server, each journal in a schema of
// its own that is dropped afterwards.
func TestMeasureJournalOnPostgres(t *testing.T) {
	pg := pgserver.ForTest(t)
	url := pgserver.DatabaseForTest(t, pg)
	reg := demo.New(demo.Options{})
	f := reg.Fixtures()
	r, err := benchmark.MeasureJournalOn(context.Background(), reg, benchmark.Scenario{Name: "wide", Start: f.WideLeafDeep},
		benchmark.Options{Latency: time.Millisecond, Concurrency: 8}, 1, url)
	if err != nil {
		t.Fatal(err)
	}
	if st := r.Stats; st.Recorded != int64(f.WideNodeCount) || st.Events != st.Recorded || st.Failed != 0 || st.Dropped != 0 {
		t.Errorf("journal %+v; want all %d batches recorded once", st, f.WideNodeCount)
	}
	if strings.Contains(r.Database, pgserver.Password) || !strings.Contains(r.Database, "PostgreSQL") {
		t.Errorf("database named %q", r.Database)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var left int
	if err := db.QueryRow(`SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE 'bench_%'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d bench schemas left behind, %v", left, err)
	}
}
