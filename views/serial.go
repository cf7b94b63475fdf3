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
	for _, c := range n.Children {
		if c.Batch == nil {
			continue
		}
		if cs, err := registry.ParseSerial(c.Batch.SerialNumber); err == nil && cs.Contains(asked) {
			return nil
		}
	}
	return &SerialNotice{Asked: asked.String(), BatchSerial: n.Batch.SerialNumber, Units: FormatKg(asked.Size())}
}
