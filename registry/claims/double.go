package claims

// Units claimed twice: across the rows of one list, the same units (or the same batch or
// retirement) named by more than one row.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/lineage-explorer/explorer/registry"
)

// maxNamedRows bounds the other rows one double_claimed finding names.
const maxNamedRows = 20

// doubleClaims marks the rows whose units (or whose batch or retirement) another row claims
// too, naming the other rows and the exact units they share (half-open ranges).
func doubleClaims(rs []Result) {
	o := &overlaps{shared: map[rowPair][]Units{}, sameID: map[rowPair]bool{}}
	o.byUnits(rs)
	o.byID(rs)
	slices.SortStableFunc(o.order, func(x, y rowPair) int { return cmp.Or(cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b)) })
	named := map[int]int{}
	for _, p := range o.order {
		r := &rs[p.a]
		other := rs[p.b].Claim.Row
		if named[p.a] >= maxNamedRows {
			continue
		}
		named[p.a]++
		units := mergeUnits(o.shared[p])
		var text string
		switch {
		case len(units) > 0:
			var kg int64
			parts := make([]string, 0, len(units))
			for _, u := range units {
				kg += u.Kg()
				parts = append(parts, u.String())
			}
			text = fmt.Sprintf("row %d claims %s of the same units too: %s", other, fmtKg(kg)+" kg", strings.Join(parts, ", "))
		case o.sameID[p]:
			text = fmt.Sprintf("row %d claims %s too", other, r.Claim.ID)
		}
		r.Findings = append(r.Findings, Finding{Code: DoubleClaimed, Text: text, Rows: []int{other}, Units: units})
	}
}

// rowPair is two rows of a list, by index into the results: a claims units b claims too.
type rowPair struct{ a, b int }

// overlaps collects, for every pair of rows, the units both claim (or that both name the same
// batch or retirement), in the order the pairs were found.
type overlaps struct {
	shared map[rowPair][]Units
	sameID map[rowPair]bool
	order  []rowPair
}

func (o *overlaps) note(p rowPair, u *Units) {
	if _, ok := o.shared[p]; !ok {
		o.order = append(o.order, p)
		o.shared[p] = nil
	}
	if u != nil {
		o.shared[p] = append(o.shared[p], *u)
	}
}

// byUnits sweeps every row's ranges, block by block and in unit order, noting each overlap
// both ways.
func (o *overlaps) byUnits(rs []Result) {
	type span struct {
		block registry.Serial
		u     Units
		row   int // index into rs
	}
	var spans []span
	for i := range rs {
		for _, u := range rs[i].units {
			spans = append(spans, span{u.block, u.u, i})
		}
	}
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.block.String(), b.block.String()), cmp.Compare(a.u.First, b.u.First), cmp.Compare(a.u.Last, b.u.Last), cmp.Compare(a.row, b.row))
	})
	var active []span
	for _, s := range spans {
		kept := active[:0]
		for _, a := range active {
			if a.block == s.block && a.u.Last > s.u.First {
				kept = append(kept, a)
			}
		}
		active = kept
		for _, a := range active {
			if a.row != s.row {
				u := Units{s.u.First, min(a.u.Last, s.u.Last)}
				o.note(rowPair{a.row, s.row}, &u)
				o.note(rowPair{s.row, a.row}, &u)
			}
		}
		active = append(active, s)
	}
}

// byID notes the same batch or retirement named twice, which counts even where its units are
// unknown.
func (o *overlaps) byID(rs []Result) {
	rowsOf := map[string][]int{}
	for i, r := range rs {
		if r.Claim.Kind == KindBatch || r.Claim.Kind == KindRetirement {
			rowsOf[r.Claim.ID] = append(rowsOf[r.Claim.ID], i)
		}
	}
	for _, rows := range rowsOf {
		for _, a := range rows {
			for _, b := range rows {
				if a != b {
					o.sameID[rowPair{a, b}] = true
					o.note(rowPair{a, b}, nil)
				}
			}
		}
	}
}

// mergeUnits sorts ranges and joins those that touch or overlap.
func mergeUnits(us []Units) []Units {
	if len(us) == 0 {
		return nil
	}
	us = slices.Clone(us)
	slices.SortFunc(us, func(a, b Units) int { return cmp.Or(cmp.Compare(a.First, b.First), cmp.Compare(a.Last, b.Last)) })
	out := []Units{us[0]}
	for _, u := range us[1:] {
		last := &out[len(out)-1]
		if u.First <= last.Last {
			last.Last = max(last.Last, u.Last)
			continue
		}
		out = append(out, u)
	}
	return out
}
