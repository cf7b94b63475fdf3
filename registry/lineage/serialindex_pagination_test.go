package lineage_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// syncBuffer is a log destination safe for the indexer's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// GET /issuances whose cursors cycle (c1 → c2 → c1, always has_next_page) stops the pass at
// the cursor it has seen; the index says it is degraded, logs it once with the endpoint, is
// listed again on the next pass rather than on each lookup, and a serial it cannot find is
// answered "the index is incomplete", never "malformed" nor "unknown".
func TestSerialIndexStopsAtPaginationThatNeverEnds(t *testing.T) {
	var logs syncBuffer
	r := newSerialRig(t, lineage.ExplorerConfig{SerialIndex: lineage.SerialIndexConfig{
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}}, nil)
	r.reg.SetOptions(demo.Options{LoopingCursors: true})
	wide := r.batch(t, r.reg.Fixtures().WideRoot)
	nowhere := serialOf(t, wide, 1, 2) // a known project and vintage, units no root holds

	_, err := r.ex.ResolveSerial(context.Background(), nowhere)
	if err == nil || errors.Is(err, registry.ErrInvalid) || errors.Is(err, registry.ErrNotFound) || !errors.Is(err, registry.ErrIncomplete) {
		t.Fatalf("lookup while the listing loops: %v, want ErrIncomplete", err)
	}
	if !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("%q does not say the index is incomplete", err)
	}
	_, pages, _ := r.counts()
	if pages > 3 {
		t.Errorf("%d pages of GET /issuances for a listing of 2 pages", pages)
	}
	st := r.ex.SerialIndex().Status()
	if st.Degraded == "" || st.Issuances == 0 {
		t.Errorf("status %+v: want degraded, with the issuances listed before the loop indexed", st)
	}
	// The next lookup does not list the issuances again: the next pass will.
	if _, err := r.ex.ResolveSerial(context.Background(), nowhere); !errors.Is(err, registry.ErrIncomplete) {
		t.Errorf("second lookup: %v", err)
	}
	if _, again, _ := r.counts(); again != pages {
		t.Errorf("a lookup listed the issuances again (%d pages, then %d)", pages, again)
	}
	// The indexer's next pass does, finds the loop again, and says nothing new in the log. (The
	// first Refresh may join the lookup's pass, which ends just after the lookup is answered.)
	_ = r.ex.SerialIndex().Refresh(context.Background())
	_, pages, _ = r.counts()
	if err := r.ex.SerialIndex().Refresh(context.Background()); !errors.Is(err, registry.ErrIncomplete) {
		t.Errorf("next pass: %v", err)
	}
	if _, again, _ := r.counts(); again <= pages {
		t.Errorf("the next pass did not list the issuances (%d pages, then %d)", pages, again)
	}
	if n := strings.Count(logs.String(), "endpoint=/issuances"); n != 1 {
		t.Errorf("the loop was logged %d times, want once with the endpoint:\n%s", n, logs.String())
	}
	// Once the registry's listing ends again, so does the degradation.
	r.reg.SetOptions(demo.Options{})
	if err := r.ex.SerialIndex().Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := r.ex.SerialIndex().Status(); st.Degraded != "" {
		t.Errorf("still degraded after a complete pass: %q", st.Degraded)
	}
	if _, err := r.ex.ResolveSerial(context.Background(), nowhere); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("after recovery: %v, want ErrNotFound", err)
	}
}
