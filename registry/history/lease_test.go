package history

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// Two replicas on one database: the first to ask holds the lease and keeps it by renewing;
// the other is refused until it lapses, then takes it, and the first is refused in turn.
func TestLeaseHeldByOneReplicaAtATime(t *testing.T) {
	eachDialect(t, func(t *testing.T, _ string, _ *sql.DB, open func() *Journal) {
		a, b := open(), open()
		ctx := context.Background()
		const ttl = time.Minute
		holdNamed := func(j *Journal, name, who string, at time.Time) bool {
			t.Helper()
			ok, err := j.HoldLease(ctx, name, who, ttl, at)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		hold := func(j *Journal, who string, at time.Time) bool {
			t.Helper()
			return holdNamed(j, "watch-poller", who, at)
		}
		if !hold(a, "replica-a", day0) {
			t.Fatal("a free lease was refused")
		}
		if hold(b, "replica-b", day0.Add(time.Second)) {
			t.Fatal("b took a lease a holds")
		}
		if !hold(a, "replica-a", day0.Add(50*time.Second)) {
			t.Fatal("a could not renew its own lease")
		}
		if hold(b, "replica-b", day0.Add(100*time.Second)) {
			t.Fatal("b took a's renewed lease before it lapsed")
		}
		if !hold(b, "replica-b", day0.Add(111*time.Second)) {
			t.Fatal("b could not take a lapsed lease")
		}
		if hold(a, "replica-a", day0.Add(112*time.Second)) {
			t.Fatal("a took back the lease b now holds")
		}
		if !holdNamed(a, "other-job", "replica-a", day0.Add(112*time.Second)) {
			t.Fatal("a lease of another name was refused")
		}
	})
}
