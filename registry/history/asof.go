package history

// What the journal can say of the past: the state of batches as last observed on or before a
// time (?as_of= on the lineage page), rebuilt from each batch's recorded state by undoing, newest
// first, the events observed after that time.

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

// State is a batch as the journal last observed it on or before a time.
type State struct {
	Snapshot
	// ObservedAt is when this state was first observed: the latest event of the batch at or
	// before the time asked. The batch was seen so then, and was not seen to change until after
	// the time asked (the state may have held longer than observed, never less).
	ObservedAt time.Time
	// ChangedAfter is whether events observed after the time asked were undone to rebuild it.
	ChangedAfter bool
}

// AsOf returns the state of each of ids as last observed on or before at: the batch's last
// recorded state with every change observed after at undone. A batch first seen after at, or
// never recorded, is absent from the map. Kg stay integers; the names of owners and
// beneficiaries are those recorded with the events undone.
func (j *Journal) AsOf(ctx context.Context, ids []string, at time.Time) (map[string]State, error) {
	out := make(map[string]State, len(ids))
	atMs := at.UnixMilli()
	for start := 0; start < len(ids); start += maxIDsPerQuery {
		chunk := ids[start:min(start+maxIDsPerQuery, len(ids))]
		if err := j.asOfChunk(ctx, chunk, atMs, out); err != nil {
			if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
				j.fail(err) // as Events: a reader that left says nothing of the database
			}
			return nil, err
		}
	}
	return out, nil
}

// FirstObserved is the earliest observation the journal holds of any of ids; zero when it
// holds none.
func (j *Journal) FirstObserved(ctx context.Context, ids []string) (time.Time, error) {
	var first int64
	for start := 0; start < len(ids); start += maxIDsPerQuery {
		chunk := ids[start:min(start+maxIDsPerQuery, len(ids))]
		var v sql.NullInt64
		q := j.rebind(`SELECT MIN(observed_at) FROM events WHERE batch_id IN (` + placeholders(len(chunk)) + `)`)
		if err := j.db.QueryRowContext(ctx, q, anyIDs(chunk)...).Scan(&v); err != nil {
			return time.Time{}, err
		}
		if v.Valid && (first == 0 || v.Int64 < first) {
			first = v.Int64
		}
	}
	if first == 0 {
		return time.Time{}, nil
	}
	return time.UnixMilli(first).UTC(), nil
}

func (j *Journal) asOfChunk(ctx context.Context, ids []string, atMs int64, out map[string]State) error {
	args := anyIDs(ids)
	// The latest event at or before at says that the batch was known then, and from when.
	seen := map[string]int64{}
	rows, err := j.db.QueryContext(ctx, j.rebind(`SELECT batch_id, MAX(observed_at) FROM events
		WHERE batch_id IN (`+placeholders(len(ids))+`) AND observed_at <= ? GROUP BY batch_id`), append(args, atMs)...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		var obs int64
		if err := rows.Scan(&id, &obs); err != nil {
			rows.Close()
			return err
		}
		seen[id] = obs
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	if len(seen) == 0 {
		return nil
	}
	rows, err = j.db.QueryContext(ctx, j.rebind(`SELECT id, status, owner, owner_name, beneficiary, beneficiary_name, retirement, children, kg
		FROM batches WHERE id IN (`+placeholders(len(ids))+`)`), args...)
	if err != nil {
		return err
	}
	states := map[string]*State{}
	for rows.Next() {
		var s State
		if err := rows.Scan(&s.ID, &s.Status, &s.Owner, &s.OwnerName, &s.Beneficiary, &s.BeneficiaryName,
			&s.Retirement, &s.Children, &s.Kg); err != nil {
			rows.Close()
			return err
		}
		if obs, ok := seen[s.ID]; ok {
			s.ObservedAt = time.UnixMilli(obs).UTC()
			states[s.ID] = &s
		}
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	// Undo what was observed after at, newest first, so that each field ends at the value it
	// had before the first change after at.
	rows, err = j.db.QueryContext(ctx, j.rebind(`SELECT batch_id, kind, from_value, from_label
		FROM events WHERE batch_id IN (`+placeholders(len(ids))+`) AND observed_at > ?
		ORDER BY observed_at DESC, seq DESC`), append(args, atMs)...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id, kind, from, fromLabel string
		if err := rows.Scan(&id, &kind, &from, &fromLabel); err != nil {
			rows.Close()
			return err
		}
		s := states[id]
		if s == nil {
			continue // first seen after at: absent, whatever it did since
		}
		s.ChangedAfter = true
		switch kind {
		case KindStatus:
			s.Status = from
		case KindOwner:
			s.Owner, s.OwnerName = from, fromLabel
		case KindBeneficiary:
			s.Beneficiary, s.BeneficiaryName = from, fromLabel
		case KindRetirement:
			s.Retirement = from
		case KindChildren:
			s.Children = from
		case KindKg:
			if kg, err := strconv.ParseInt(from, 10, 64); err == nil {
				s.Kg = kg
			}
		}
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	for id, s := range states {
		out[id] = *s
	}
	return nil
}

// Apply is live (the batch as fetched today) with what the journal keeps set as st says, and
// the registry's dates of what had not happened by at cleared: the batch as it was at at, as
// far as the journal knows. live is not changed.
func (st State) Apply(live *registry.CreditBatch, at time.Time) *registry.CreditBatch {
	b := *live
	b.Status = registry.Status(st.Status)
	b.Owner = registry.Organisation{ID: st.Owner, Name: st.OwnerName}
	b.RetirementID = st.Retirement
	b.Beneficiary = nil
	if st.Beneficiary != "" {
		b.Beneficiary = &registry.Organisation{ID: st.Beneficiary, Name: st.BeneficiaryName}
	}
	b.LeftChildID, b.RightChildID = "", ""
	if kids := strings.Fields(st.Children); len(kids) > 0 {
		b.LeftChildID = kids[0]
		if len(kids) > 1 {
			b.RightChildID = kids[1]
		}
	}
	if st.Kg != b.Size.CreditKgs {
		b.Size = registry.Quantity{CreditKgs: st.Kg} // the credits sent were of the other size
	}
	if b.Status != registry.StatusRetired || b.RetiredAt.Time.After(at) {
		b.RetiredAt = registry.Timestamp{}
	}
	if b.DeliveredAt.Time.After(at) {
		// Delivered after the day: the delivery the batch had then, if any, is not known.
		b.DeliveredAt, b.DeliveryID = registry.Timestamp{}, ""
	}
	return &b
}
