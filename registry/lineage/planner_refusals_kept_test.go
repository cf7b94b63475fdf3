package lineage

import (
	"fmt"
	"testing"
	"time"
)

// Refusals of ids no walk asks about again do not pile up: past maxRefusalsKept, the expired
// ones are dropped.
func TestPlannerForgetsExpiredRefusals(t *testing.T) {
	p := NewPlanner(nil, nil, PlannerConfig{RefusalTTL: time.Nanosecond})
	for i := range 3 * maxRefusalsKept {
		p.refuse(retirementRoute, fmt.Sprintf("ret_%016d", i))
	}
	p.mu.Lock()
	kept := len(p.refused)
	p.mu.Unlock()
	if kept > maxRefusalsKept+maxRefusalsKept/2 {
		t.Errorf("%d refusals kept after %d, each expired after 1ns; want at most about %d", kept, 3*maxRefusalsKept, maxRefusalsKept)
	}
}
