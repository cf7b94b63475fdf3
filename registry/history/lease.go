package history

import (
	"context"
	"time"
)

// HoldLease takes or renews the lease name for holder until now+ttl, and reports whether
// holder has it: true when the lease was free, had lapsed (another holder's until is before
// now) or was already holder's. Replicas sharing one database (DATABASE_URL) use it so that
// a job meant to run once, such as polling watched trees and sending their webhooks, runs on
// one of them; a holder that dies loses the lease ttl after its last renewal. The errors are
// the database's.
func (j *Journal) HoldLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error) {
	// One statement, so that two replicas racing for a lapsed lease cannot both win: the
	// conflict's update only applies where the lease is lapsed or already this holder's.
	res, err := j.db.ExecContext(ctx, j.rebind(`INSERT INTO leases (name, holder, until_ms) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
		WHERE leases.until_ms < ? OR leases.holder = excluded.holder`),
		name, holder, now.Add(ttl).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseLease gives up the lease name if holder has it, so that another replica can take it
// at its next try rather than after the lease lapses (a graceful stop). The errors are the
// database's.
func (j *Journal) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := j.db.ExecContext(ctx, j.rebind(`DELETE FROM leases WHERE name = ? AND holder = ?`), name, holder)
	return err
}
