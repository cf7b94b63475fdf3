package history

import (
	"context"
	"database/sql"
	"time"
)

// Coverage says whether the journal holds a record of one batch, so that an empty history
// is not mistaken for a batch that never changed.
type Coverage struct {
	// Recorded is true when the journal holds the batch's state as last observed.
	Recorded bool
	// RecordedAt is when that state was first observed (zero when not Recorded).
	RecordedAt time.Time
	// Gap is why the batch has no record, or (when Recorded) why a later observation is not
	// in it and a change may be missing: GapQueued, GapDropped, GapFailed, or
	// GapNeverObserved; "" when the record is whole as far as the journal knows.
	Gap string
	// GapAt is when the observation not recorded was made (zero for GapNeverObserved).
	GapAt time.Time
}

// Coverage returns, for each of ids, whether the journal holds a record of it and, where it
// may lack something, why. It reads the database (batches and gaps, shared by replicas) and
// this replica's queue and unwritten gaps.
func (j *Journal) Coverage(ctx context.Context, ids []string) (map[string]Coverage, error) {
	out := make(map[string]Coverage, len(ids))
	for start := 0; start < len(ids); start += maxIDsPerQuery {
		chunk := ids[start:min(start+maxIDsPerQuery, len(ids))]
		args, in := anyIDs(chunk), "("+placeholders(len(chunk))+")"
		err := j.scan(ctx, `SELECT id, observed_at FROM batches WHERE id IN `+in, args, func(rows *sql.Rows) error {
			var id string
			var at int64
			if err := rows.Scan(&id, &at); err != nil {
				return err
			}
			c := out[id]
			c.Recorded, c.RecordedAt = true, time.UnixMilli(at).UTC()
			out[id] = c
			return nil
		})
		if err != nil {
			return nil, err
		}
		err = j.scan(ctx, `SELECT batch_id, reason, noted_at FROM gaps WHERE batch_id IN `+in, args, func(rows *sql.Rows) error {
			var id, reason string
			var at int64
			if err := rows.Scan(&id, &reason, &at); err != nil {
				return err
			}
			c := out[id]
			c.Gap, c.GapAt = reason, time.UnixMilli(at).UTC()
			out[id] = c
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, id := range ids {
		c := out[id]
		if g, ok := j.gaps[id]; ok && (c.GapAt.IsZero() || g.at.After(c.GapAt)) {
			c.Gap, c.GapAt = g.reason, g.at.UTC()
		}
		switch {
		case c.Recorded && !c.GapAt.IsZero() && !c.GapAt.After(c.RecordedAt):
			// Recorded after the gap: the next observation compared against what was there
			// before, so no change is missing (only when it happened is less sure).
			c.Gap, c.GapAt = "", time.Time{}
		case !c.Recorded && c.Gap == "" && j.queued[id] > 0:
			c.Gap = GapQueued
		case !c.Recorded && c.Gap == "":
			c.Gap = GapNeverObserved
		}
		out[id] = c
	}
	return out, nil
}

// scan runs the query q (rebound) and calls each for every row.
func (j *Journal) scan(ctx context.Context, q string, args []any, each func(*sql.Rows) error) error {
	rows, err := j.db.QueryContext(ctx, j.rebind(q), args...)
	if err != nil {
		err = j.scrub(err)
		if ctx.Err() == nil || ctx.Err() == context.DeadlineExceeded {
			j.fail(err) // a reader that left says nothing of the database; one that timed out does
		}
		return err
	}
	for rows.Next() {
		if err := each(rows); err != nil {
			rows.Close()
			return j.scrub(err)
		}
	}
	return j.scrub(closeRows(rows))
}
