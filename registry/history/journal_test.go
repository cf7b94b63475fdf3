package history

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

func openTemp(t *testing.T) (*Journal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	j, err := Open(context.Background(), path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j, path
}

func active(id, owner string, kg int64) Snapshot {
	return Snapshot{ID: id, Status: "active", Owner: owner, OwnerName: "Org " + owner, Kg: kg}
}

var day0 = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)

func TestMigrationsFromEmpty(t *testing.T) {
	j, path := openTemp(t)
	v, err := j.Version(context.Background())
	if err != nil || v < 1 {
		t.Fatalf("schema version %d, %v: want the migrations applied to an empty file", v, err)
	}
	// Opening the same file again applies nothing and keeps what was recorded.
	if _, err := j.Record(context.Background(), active("ctb_A", "org_1", 1000), day0); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j2, err := Open(context.Background(), path, Config{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer j2.Close()
	if v2, _ := j2.Version(context.Background()); v2 != v {
		t.Errorf("version %d after reopening, was %d", v2, v)
	}
	evs, err := j2.Events(context.Background(), []string{"ctb_A"}, time.Time{}, 0)
	if err != nil || len(evs) != 1 || evs[0].Kind != KindFirstSeen {
		t.Errorf("after reopening: %+v, %v; want the first-seen event kept", evs, err)
	}
}

func TestSameChangeSeenTwiceRecordedOnce(t *testing.T) {
	j, path := openTemp(t)
	ctx := context.Background()
	// A second journal on the same file stands for another replica.
	other, err := Open(ctx, path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := j.Record(ctx, active("ctb_A", "org_1", 1000), day0); err != nil {
		t.Fatal(err)
	}
	moved := active("ctb_A", "org_2", 1000)
	first, err := j.Record(ctx, moved, day0.Add(time.Hour))
	if err != nil || len(first) != 1 {
		t.Fatalf("first sight of the change: %+v, %v", first, err)
	}
	again, err := other.Record(ctx, moved, day0.Add(2*time.Hour))
	if err != nil || len(again) != 0 {
		t.Errorf("the other replica seeing it: appended %+v, %v; want nothing", again, err)
	}
	if again, _ := j.Record(ctx, moved, day0.Add(3*time.Hour)); len(again) != 0 {
		t.Errorf("fetched again: appended %+v", again)
	}
	evs, _ := j.Events(ctx, []string{"ctb_A"}, time.Time{}, 0)
	if len(evs) != 2 {
		t.Errorf("events %+v: want first seen and one change of holder", evs)
	}
	// Back and forth: the key (batch, kind, from, to) keeps the first org_1 → org_2 and the
	// repeat is absorbed without failing the batch's transaction.
	if _, err := j.Record(ctx, active("ctb_A", "org_1", 1000), day0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Record(ctx, moved, day0.Add(5*time.Hour)); err != nil {
		t.Errorf("the same change seen again after a change back: %v", err)
	}
}

func TestChangesProduceTheirEvents(t *testing.T) {
	j, _ := openTemp(t)
	ctx := context.Background()
	if _, err := j.Record(ctx, active("ctb_P", "org_1", 1000), day0); err != nil {
		t.Fatal(err)
	}
	split := active("ctb_P", "org_1", 1000)
	split.Status, split.Children = "split", "ctb_L ctb_R"
	got, err := j.Record(ctx, split, day0.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Kind != KindStatus || got[0].To != "split" || got[1].Kind != KindChildren || got[1].To != "ctb_L ctb_R" {
		t.Errorf("split: %+v", got)
	}

	retiredAt := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	if _, err := j.Record(ctx, active("ctb_L", "org_1", 400), day0); err != nil {
		t.Fatal(err)
	}
	ret := Snapshot{ID: "ctb_L", Status: "retired", Owner: "org_2", OwnerName: "Org org_2", Beneficiary: "org_9",
		BeneficiaryName: "Beneficiary Ltd", Retirement: "ret_1", Kg: 400, RetiredAt: retiredAt}
	got, err = j.Record(ctx, ret, day0.AddDate(0, 0, 7))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]Event{}
	for _, e := range got {
		kinds[e.Kind] = e
	}
	if e := kinds[KindStatus]; e.To != "retired" || !e.RegistryTime.Equal(retiredAt) || e.ToLabel != "Beneficiary Ltd" {
		t.Errorf("retirement's status event %+v: want retired, at the registry's retired_at, for its beneficiary", e)
	}
	if e := kinds[KindOwner]; e.From != "org_1" || e.To != "org_2" || e.FromLabel != "Org org_1" || e.ToLabel != "Org org_2" {
		t.Errorf("change of holder %+v", e)
	}
	if _, ok := kinds[KindBeneficiary]; !ok {
		t.Errorf("no beneficiary event in %+v", got)
	}
	if e := kinds[KindRetirement]; e.To != "ret_1" {
		t.Errorf("retirement event %+v", e)
	}

	resized := active("ctb_R", "org_1", 600)
	j.Record(ctx, resized, day0)
	resized.Kg = 599
	got, _ = j.Record(ctx, resized, day0.AddDate(0, 0, 2))
	if len(got) != 1 || got[0].Kind != KindKg || got[0].FromKg() != 600 || got[0].ToKg() != 599 {
		t.Errorf("kg change: %+v", got)
	}

	all, err := j.Events(ctx, []string{"ctb_P", "ctb_L", "ctb_R"}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ObservedAt.After(all[i-1].ObservedAt) {
			t.Fatalf("not newest first: %+v", all)
		}
	}
	recent, _ := j.Events(ctx, []string{"ctb_P", "ctb_L", "ctb_R"}, day0.AddDate(0, 0, 2), 0)
	if len(recent) != 5 {
		t.Errorf("since day 2: %d events, want the retirement's 4 and the kg change", len(recent))
	}
}

func TestObserveRecordsInTheBackground(t *testing.T) {
	j, _ := openTemp(t)
	b := &registry.CreditBatch{ID: "ctb_A", Status: registry.StatusActive, Owner: registry.Organisation{ID: "org_1", Name: "One"},
		Size: registry.Quantity{CreditKgs: 5000}}
	j.Observe(b)
	j.Observe(&registry.CreditBatch{}) // unreadable: ignored
	if err := j.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	evs, err := j.Events(context.Background(), []string{"ctb_A"}, time.Time{}, 0)
	if err != nil || len(evs) != 1 || evs[0].Kg != 5000 {
		t.Errorf("%+v, %v: want first seen with 5000 kg", evs, err)
	}
	if st := j.Stats(); st.Recorded != 1 || st.Events != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestFullQueueDropsAndCounts(t *testing.T) {
	// A journal whose worker has not started stands for one stuck on a slow database.
	j := start(nil, dialectSQLite, "", Config{QueueSize: 1}, false)
	j.Observe(&registry.CreditBatch{ID: "ctb_A", Status: registry.StatusActive})
	j.Observe(&registry.CreditBatch{ID: "ctb_B", Status: registry.StatusActive}) // must not block
	if st := j.Stats(); st.Dropped != 1 {
		t.Errorf("dropped %d, want 1", st.Dropped)
	}
}

func TestFailingDatabaseIsReportedAndRecovers(t *testing.T) {
	_, path := openTemp(t)
	ctx := context.Background()
	// A journal without its worker, so that the test may swap its database under it.
	db, err := openDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	j := start(db, dialectSQLite, "", Config{}, false)
	if err := j.Health(ctx); err != nil {
		t.Fatalf("fresh journal: %v", err)
	}
	good := j.db
	// A database that fails every write: a read-only connection to the same file.
	ro, err := openRO(path)
	if err != nil {
		t.Fatal(err)
	}
	j.db = ro
	if _, err := j.Record(ctx, active("ctb_A", "org_1", 1), day0); err == nil {
		t.Fatal("a write to a read-only database succeeded")
	}
	if j.Health(ctx) == nil || j.Stats().Failed != 1 {
		t.Errorf("health %v, stats %+v: want degraded and the failure counted", j.Health(ctx), j.Stats())
	}
	j.db = good
	ro.Close()
	if _, err := j.Record(ctx, active("ctb_A", "org_1", 1), day0); err != nil {
		t.Fatal(err)
	}
	if err := j.Health(ctx); err != nil {
		t.Errorf("after a write succeeded: %v; want recovered", err)
	}
}

func TestOpenDirRefusesUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "data")
	_, err := OpenDir(context.Background(), dir, Config{})
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("a data directory under a plain file: %v; want an error naming it", err)
	}
	j, err := OpenDir(context.Background(), filepath.Join(t.TempDir(), "new", "data"), Config{})
	if err != nil {
		t.Fatalf("a data directory to create: %v", err)
	}
	j.Close()
}

func openRO(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?mode=ro")
	if err != nil {
		return nil, err
	}
	return db, db.Ping()
}

// openDB is a plain connection to the SQLite file at path, for a journal made with start.
func openDB(path string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?_pragma=busy_timeout(5000)")
}

// Split and retired are final: an older copy arriving after the newer one (another replica's
// answer, a batch recorded late) is not a change back. Before, "split → active" and "lost its
// children" were recorded and shown.
func TestAFinalBatchIsNeverRecordedGoingBack(t *testing.T) {
	eachDialect(t, func(t *testing.T, _ string, _ *sql.DB, open func() *Journal) {
		j := open()
		ctx := context.Background()
		a := active("ctb_A", "org_1", 1000)
		split := a
		split.Status, split.Children = "split", "ctb_B ctb_C"
		retired := active("ctb_R", "org_1", 10)
		retiredNow := retired
		retiredNow.Status, retiredNow.Retirement = "retired", "ret_1"
		for _, s := range []Snapshot{a, split, retired, retiredNow} {
			if _, err := j.Record(ctx, s, day0); err != nil {
				t.Fatal(err)
			}
		}
		for _, old := range []Snapshot{a, retired} {
			evs, err := j.Record(ctx, old, day0.Add(time.Second))
			if err != nil || len(evs) != 0 {
				t.Errorf("an older copy of %s recorded %+v, %v", old.ID, evs, err)
			}
		}
		if st := j.Stats(); st.Stale != 2 {
			t.Errorf("%d stale copies counted, want 2", st.Stale)
		}
		evs, err := j.Events(ctx, []string{"ctb_A", "ctb_R"}, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Kind == KindStatus && e.To == "active" || e.Kind == KindChildren && e.To == "" {
				t.Errorf("recorded going back: %+v", e)
			}
		}
		// The recorded state is still the newer one: the next true change is said from it.
		done := split
		done.Owner = "org_2"
		if evs, _ := j.Record(ctx, done, day0.Add(2*time.Second)); len(evs) != 1 || evs[0].Kind != KindOwner {
			t.Errorf("a change after the stale copy: %+v", evs)
		}
	})
}
