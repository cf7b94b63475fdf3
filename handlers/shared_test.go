package handlers

import (
	"io"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry/cache/rediscache"
	"github.com/lineage-explorer/explorer/registry/cache/rediscache/redisserver"
)

// Two app replicas share one Redis: the second serves a tree the first walked without asking
// the upstream; with Redis killed it stays ready and says the shared tier is degraded.
func TestReplicasShareRedisAndSurviveItsLoss(t *testing.T) {
	srv := redisserver.ForTest(t, "--requirepass", "pw-SECRET-42")
	url := strings.Replace(srv.URL(), "redis://", "redis://:pw-SECRET-42@", 1)
	open := func() *rediscache.Tier {
		tier, err := rediscache.Open(url, rediscache.Config{Prefix: "handlers-test"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tier.Close() })
		return tier
	}
	first := newApp(t, appOptions{shared: open(), metrics: true})
	second := newApp(t, appOptions{shared: open(), metrics: true})
	id := first.fx.AllFinalRoot
	for _, a := range []*testApp{first, second} {
		resp, err := a.http.Get(a.url + "/batches/" + id)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if n := second.reg.Requests(); n != 0 {
		t.Errorf("the second replica asked the upstream %d times for a tree the first had walked", n)
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	resp, err := second.http.Get(second.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "shared cache: degraded: redis://") || strings.Count(string(body), "shared cache") != 1 {
		t.Errorf("/readyz with Redis down: %d %q", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "SECRET") {
		t.Error("/readyz shows the Redis password")
	}
	// Pages go on from memory and the upstream.
	resp, err = second.http.Get(second.url + "/batches/" + second.fx.WideLeafDeep)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("page with Redis down: %d", resp.StatusCode)
	}
}
