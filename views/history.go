package views

import (
	"strings"
	"time"
)

// HistoryKind is what an observed change of a batch was about.
type HistoryKind string

// The kinds of observed change, as the history journal records them.
const (
	HistoryFirstSeen   HistoryKind = "first_seen"
	HistoryStatus      HistoryKind = "status"
	HistoryOwner       HistoryKind = "owner"
	HistoryBeneficiary HistoryKind = "beneficiary"
	HistoryRetirement  HistoryKind = "retirement"
	HistoryChildren    HistoryKind = "children"
	HistoryKg          HistoryKind = "kg"
)

// HistoryView is the History section of a lineage page: what this explorer has observed of
// the tree over time, newest first. The zero value shows no section (no journal is kept).
type HistoryView struct {
	Kept bool // a journal is kept: the section is shown
	// Unavailable says the journal could not be read just now; the rest of the page is current.
	Unavailable bool
	Events      []HistoryEvent // newest first
	More        bool           // older events exist beyond Events
	JSONURL     string         // the target batch's history as JSON
	// Gaps count the tree's batches the journal holds no record of, or may lack a change of,
	// by reason: without them an empty or short history would read as "nothing happened".
	Gaps []HistoryGap
	// AfterWalk counts the listed events observed after the tree above was walked (Walked):
	// the tree does not show them yet; AgainURL walks it again.
	AfterWalk int
	Walked    string
	AgainURL  string
}

// HistoryGap is how many batches of a tree the journal lacks, or may lack a change of, for
// one reason.
type HistoryGap struct {
	// Reason is the journal's: queued, dropped, failed or never_observed.
	Reason string
	// Recorded is true when the batches are recorded but a later observation of them was not.
	Recorded bool
	Count    int
}

// Sentence says the gap: "2 batches not recorded: observed while the journal was busy".
func (g HistoryGap) Sentence() string {
	n := FormatCount(g.Count) + " batches"
	if g.Count == 1 {
		n = "1 batch"
	}
	why := map[string]string{
		"queued":         "observed and waiting to be recorded",
		"dropped":        "observed while the journal was too busy to take them",
		"failed":         "observed while the journal's database failed",
		"never_observed": "not observed since the journal has been kept",
	}[g.Reason]
	if why == "" {
		why = g.Reason
	}
	if g.Recorded {
		return n + " may lack a change: a later observation was not recorded (" + why + ")"
	}
	return n + " not recorded, so their changes are not listed: " + why
}

// HistoryEvent is one observed change of one batch. From, To and the names are untrusted
// text from the registry.
type HistoryEvent struct {
	BatchID  string
	Kind     HistoryKind
	From, To string // ids or statuses compared; for HistoryChildren, "left right"
	FromName string // the organisation named by From, when it is one
	ToName   string // the organisation named by To; for a retirement, the beneficiary
	FromKg   int64  // for HistoryKg
	ToKg     int64  // for HistoryKg; the batch's size otherwise
	Observed time.Time
	Registry time.Time // the registry's own date of the change (retired_at, delivered_at); zero when none
}

// Sentence says what happened, after the batch id: "split into … and …", "retired for … on
// …", "changed hands from … to …", "first seen". Dates of the registry's own record are given
// with the sentence; the observation date is said separately (Observation).
func (e HistoryEvent) Sentence() string {
	name := func(id, n string) string {
		switch {
		case n != "" && id != "":
			return n + " (" + id + ")"
		case n != "":
			return n
		case id != "":
			return id
		}
		return "nobody named"
	}
	on := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return " on " + FormatDay(t) + " (the registry's delivery date)"
	}
	switch e.Kind {
	case HistoryFirstSeen:
		return "first seen on " + FormatDay(e.Observed) + ", " + orDash(e.To) + ", " + FormatKg(e.ToKg) + " kg"
	case HistoryChildren:
		kids := strings.Fields(e.To)
		switch len(kids) {
		case 0:
			return "lost its children (" + e.From + ")"
		case 1:
			return "split, leaving " + kids[0]
		default:
			return "split into " + kids[0] + " and " + kids[1]
		}
	case HistoryStatus:
		switch e.To {
		case "retired":
			s := "retired"
			if e.ToName != "" {
				s += " for " + e.ToName
			}
			if !e.Registry.IsZero() {
				s += " on " + FormatDay(e.Registry) + " (the registry's date)"
			}
			return s
		case "split":
			return "split"
		}
		return "status changed from " + orDash(e.From) + " to " + orDash(e.To)
	case HistoryOwner:
		return "changed hands from " + name(e.From, e.FromName) + " to " + name(e.To, e.ToName) + on(e.Registry)
	case HistoryBeneficiary:
		return "beneficiary changed from " + name(e.From, e.FromName) + " to " + name(e.To, e.ToName)
	case HistoryRetirement:
		if e.From == "" {
			return "joined retirement " + e.To
		}
		return "retirement changed from " + orDash(e.From) + " to " + orDash(e.To)
	case HistoryKg:
		return "size changed from " + FormatKg(e.FromKg) + " kg to " + FormatKg(e.ToKg) + " kg"
	}
	return string(e.Kind) + " changed from " + orDash(e.From) + " to " + orDash(e.To)
}

// Observation says when the change was observed, as such: the change happened on or before
// it. "" for a first sighting, whose sentence is its observation.
func (e HistoryEvent) Observation() string {
	if e.Kind == HistoryFirstSeen {
		return ""
	}
	return "observed on " + FormatDay(e.Observed)
}

// FormatDay is a date as YYYY-MM-DD, in UTC.
func FormatDay(t time.Time) string { return t.UTC().Format("2006-01-02") }

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
