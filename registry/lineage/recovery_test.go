package lineage_test

import (
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// outageRig is an Explorer on the demo registry whose every answer is a fault until the test
// lets it recover; the client and the walk give up quickly so that an outage ends the walk.
func outageRig(t *testing.T) (*demo.Registry, *lineage.Explorer) {
	t.Helper()
	reg := demo.New(demo.Options{FaultRate: 1})
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: demo.NewTestServer(t, reg), AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, MaxAttempts: 2, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// KeepFinished is the default 30 s: longer than the test, so that a failure kept for it
	// would be what the requests after recovery get.
	return reg, lineage.NewExplorer(c, lineage.ExplorerConfig{Walker: quickRetries})
}

// A walk that failed is the answer of the requests that were waiting for it, and of no
// request after: once the registry answers again, the next request walks again.
func TestAFailedWalkIsNotServedAfterRecovery(t *testing.T) {
	reg, e := outageRig(t)
	id := reg.Fixtures().DeepChainLeaf
	failed := e.StartLineage(id, false)
	if _, err := failed.Result(); err == nil {
		t.Fatal("the walk succeeded while every answer was a fault")
	}
	// A request that was waiting for that walk (a progress page reloading) still finds it.
	if again := e.FollowLineage(id, failed.Walk); again != failed {
		t.Error("the progress page of the failed walk does not find it")
	}
	reg.SetOptions(demo.Options{})
	tree, err := e.StartLineage(id, false).Result()
	if err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if tree.Len() != 2*reg.Fixtures().DeepChainDepth+1 || tree.Partial() {
		t.Errorf("after recovery: %d nodes, partial %v", tree.Len(), tree.Partial())
	}
}

// The same holds for the reports, which are built in the background like walks.
func TestAFailedReportIsNotServedAfterRecovery(t *testing.T) {
	reg, e := outageRig(t)
	f := reg.Fixtures()
	if _, err := e.StartIssuanceReport(f.Issuance, false).Result(); err == nil {
		t.Fatal("the issuance report was built while every answer was a fault")
	}
	if _, err := e.StartRetirementReport(f.Retirement, false).Result(); err == nil {
		t.Fatal("the retirement report was built while every answer was a fault")
	}
	reg.SetOptions(demo.Options{})
	iss, err := e.StartIssuanceReport(f.Issuance, false).Result()
	if err != nil || iss.FetchFailed != 0 {
		t.Errorf("issuance report after recovery: %v", err)
	}
	ret, err := e.StartRetirementReport(f.Retirement, false).Result()
	if err != nil || ret.FetchFailed != 0 {
		t.Errorf("retirement report after recovery: %v", err)
	}
}
