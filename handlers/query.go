package handlers

import (
	"github.com/lineage-explorer/explorer/registry"
)

// The search box's parsing lives in registry (ParseQuery), shared with the claims check, which
// reads the identifiers of a pasted list the way search reads one.

// targetKind is what a piece of a search query names.
type targetKind = registry.TargetKind

const (
	targetBatch      = registry.TargetBatch
	targetSerial     = registry.TargetSerial
	targetIssuance   = registry.TargetIssuance
	targetRetirement = registry.TargetRetirement
)

// target is one thing a search query names, in canonical form.
type target struct {
	kind  targetKind
	value string
}

// maxQueryLen bounds what the parser looks at: an id, a serial or a URL is far shorter, and a
// huge pasted text must not cost more than a glance.
const maxQueryLen = 4096

// parseQuery finds what a search query names (registry.ParseQuery), after trimQuery's bound.
func parseQuery(q string) []target {
	ts := registry.ParseQuery(trimQuery(q))
	var out []target
	for _, t := range ts {
		out = append(out, target{t.Kind, t.Value})
	}
	return out
}

// restoreCase is registry.RestoreCase: what a spreadsheet's LOWER() did to an id, undone.
func restoreCase(id string) string { return registry.RestoreCase(id) }
