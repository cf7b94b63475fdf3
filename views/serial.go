package views

import (
	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// SerialNotice tells, on a lineage page reached from a serial number, that the serial asked
// for is not the batch's own but lies inside its range.
type SerialNotice struct {
	Asked       string // the serial number asked for, canonical
	BatchSerial string // the batch's own serial number
	Units       string // kg in the range asked for, formatted
	// Suggest, when set, is a batch of the tree (this one or one of its halves) whose range
	// differs from the one asked for by one unit at one end: what a reader who took the range
	// as inclusive most likely meant.
	Suggest *SerialSuggestion
}

// SerialConvention says, in one line, how a serial number's range reads; the serial pages and
// the batch page show it where a reader would otherwise guess.
const SerialConvention = "A serial number’s range excludes its end: the batch holds last − first units, and the two halves of a split share their boundary."

// SerialSuggestion is a batch offered as "did you mean" for a serial number that misses it by
// one unit at one end (the inclusive reading of the range).
type SerialSuggestion struct {
	Asked    string // the serial number asked for, canonical
	BatchID  string // the batch meant
	Serial   string // its own serial number
	URL      string // its lineage page
	NotFound bool   // no batch holds the range asked for (the page is a 404)
}

// SerialOffByOne reports whether a and b name the same block and their ranges differ by one
// unit at one end, or are the same length shifted by one unit: what counting the end in (or
// counting from one) makes of a serial number.
func SerialOffByOne(a, b registry.Serial) bool {
	if !a.SameBlock(b) || a == b {
		return false
	}
	df, dl := a.First-b.First, a.Last-b.Last
	abs := func(v int64) int64 { return max(v, -v) }
	return abs(df)+abs(dl) == 1 || (df == dl && abs(df) == 1)
}

// NewSerialNotice returns the notice for a lineage page reached from serial number asked, or
// nil when there is nothing true to say: the notice claims that asked lies inside the target's
// range and inside none of its halves (the smallest batch that holds it), and both are checked
// against the tree rather than taken from the URL.
func NewSerialNotice(t *lineage.Tree, asked registry.Serial) *SerialNotice {
	n := t.Target
	if n == nil || n.Batch == nil {
		return nil
	}
	own, err := registry.ParseSerial(n.Batch.SerialNumber)
	if err != nil || own == asked || !own.Contains(asked) {
		return nil
	}
	var suggest *SerialSuggestion
	if SerialOffByOne(asked, own) {
		suggest = &SerialSuggestion{Asked: asked.String(), BatchID: n.ID, Serial: own.String(), URL: BatchURL(n.ID)}
	}
	for _, c := range n.Children {
		if c.Batch == nil {
			continue
		}
		cs, err := registry.ParseSerial(c.Batch.SerialNumber)
		if err == nil && cs.Contains(asked) {
			return nil
		}
		if err == nil && suggest == nil && SerialOffByOne(asked, cs) && registry.ValidateID(registry.PrefixCreditBatch, c.ID) == nil {
			suggest = &SerialSuggestion{Asked: asked.String(), BatchID: c.ID, Serial: cs.String(), URL: BatchURL(c.ID)}
		}
	}
	return &SerialNotice{Asked: asked.String(), BatchSerial: n.Batch.SerialNumber, Units: FormatKg(asked.Size()), Suggest: suggest}
}
