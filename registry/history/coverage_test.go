package history

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

// Issue 18, point 4: a batch the journal dropped, has yet to record, or never saw is told
// apart from one recorded with no change, here and by another journal on the same database.
func TestCoverageTellsDroppedQueuedAndNeverSeenApart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	first, err := Open(ctx, path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	first.Close() // the schema, made by a journal that worked
	db, err := openDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A journal whose worker has not started and whose queue holds one batch stands for one
	// stuck on a slow database.
	j := start(db, dialectSQLite, "", Config{QueueSize: 1, Now: func() time.Time { return day0 }}, false)
	batch := func(id string) *registry.CreditBatch {
		return &registry.CreditBatch{ID: id, Status: registry.StatusActive, Owner: registry.Organisation{ID: "org_1"}}
	}
	j.Observe(batch("ctb_QUEUED"))
	j.Observe(batch("ctb_DROPPED")) // the queue is full
	ids := []string{"ctb_QUEUED", "ctb_DROPPED", "ctb_NEVER"}
	cov, err := j.Coverage(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"ctb_QUEUED": GapQueued, "ctb_DROPPED": GapDropped, "ctb_NEVER": GapNeverObserved} {
		if c := cov[id]; c.Recorded || c.Gap != want {
			t.Errorf("%s: %+v; want not recorded, %s", id, c, want)
		}
	}
	if !cov["ctb_DROPPED"].GapAt.Equal(day0) {
		t.Errorf("dropped at %v, want the observation's time %v", cov["ctb_DROPPED"].GapAt, day0)
	}

	// The worker takes the queue: the queued batch is recorded, and the gap is written where
	// another replica reads it.
	j.recordQueued([]item{<-j.queue})
	other, err := Open(ctx, path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	cov, err = other.Coverage(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if c := cov["ctb_QUEUED"]; !c.Recorded || c.Gap != "" || !c.RecordedAt.Equal(day0) {
		t.Errorf("recorded batch: %+v", c)
	}
	if c := cov["ctb_DROPPED"]; c.Recorded || c.Gap != GapDropped {
		t.Errorf("the dropped batch, read by another journal: %+v; want the gap noted", c)
	}

	// Observed again and recorded: whole again.
	if _, err := other.Record(ctx, SnapshotOf(batch("ctb_DROPPED")), day0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if c, _ := other.Coverage(ctx, []string{"ctb_DROPPED"}); !c["ctb_DROPPED"].Recorded || c["ctb_DROPPED"].Gap != "" {
		t.Errorf("after recording it: %+v", c["ctb_DROPPED"])
	}

	// A recorded batch whose later observation was dropped may lack a change: recorded, and
	// the gap said.
	j.Observe(batch("ctb_QUEUED")) // fills the queue again
	j.now = func() time.Time { return day0.Add(time.Hour) }
	j.Observe(batch("ctb_QUEUED")) // dropped
	if c, _ := j.Coverage(ctx, []string{"ctb_QUEUED"}); !c["ctb_QUEUED"].Recorded || c["ctb_QUEUED"].Gap != GapDropped {
		t.Errorf("a later observation dropped: %+v; want recorded, with the gap", c["ctb_QUEUED"])
	}
}
