package handlers

import (
	"errors"
	"strconv"
	"strings"

	"github.com/lineage-explorer/explorer/registry"
)

// The search box's parsing lives in registry (ParseQueryExplained), shared with the claims
// check, which reads the identifiers of a pasted list the way search reads one; what is here
// says why a piece that looks meant as an id or a serial number is not one.

// targetKind is what a piece of a search query names.
type targetKind = registry.TargetKind

const (
	targetBatch        = registry.TargetBatch
	targetSerial       = registry.TargetSerial
	targetIssuance     = registry.TargetIssuance
	targetRetirement   = registry.TargetRetirement
	targetProject      = registry.TargetProject
	targetOrganisation = registry.TargetOrganisation
)

// target is one thing a search query names, in canonical form.
type target struct {
	kind  targetKind
	value string
}

// maxQueryLen bounds what the parser looks at: an id, a serial or a URL is far shorter, and a
// huge pasted text must not cost more than a glance.
const maxQueryLen = 4096

// parseQuery finds what a search query names: credit batch, issuance, retirement, project and
// organisation ids,
// and serial numbers, alone, in a pasted URL (path segments, query values, fragment) or in
// pasted text, in the order they appear and without repeats. It never contacts anything.
func parseQuery(q string) []target {
	out, _ := parseQueryExplained(q)
	return out
}

// dropped is a piece of a search query that was meant as an id or a serial number but is not a
// valid one, and why.
type dropped struct {
	text string // as typed (untrusted), normalised as the parser read it
	kind string // what it looks meant as: "serial number", "retirement id", "id"
	why  string // what is wrong with it, in words a page shows
}

// parseQueryExplained is parseQuery that also says which pieces it dropped and why: those that
// look meant as an id (three letters and an underscore) or a serial number (three hyphens or
// more) but are not valid, in the order they appear and without repeats. Words, dates and
// the rest of a pasted URL are not reported.
func parseQueryExplained(q string) ([]target, []dropped) {
	ts, unread := registry.ParseQueryExplained(trimQuery(q))
	out := make([]target, 0, len(ts))
	for _, t := range ts {
		out = append(out, target{t.Kind, t.Value})
	}
	var drops []dropped
	seen := map[string]bool{}
	for _, tok := range unread {
		if d, ok := explainDrop(tok); ok && !seen[d.text] {
			seen[d.text] = true
			drops = append(drops, d)
		}
	}
	return out, drops
}

// idKinds names the id prefixes the explorer has pages for, in words.
var idKinds = []struct{ prefix, noun string }{
	{registry.PrefixCreditBatch, "credit batch"}, {registry.PrefixIssuance, "issuance"},
	{registry.PrefixRetirement, "retirement"}, {registry.PrefixProject, "project"},
	{registry.PrefixOrganisation, "organisation"},
}

// explainDrop says why tok, which recognise refused, is not a valid id or serial number, when it
// looks meant as one; ok is false for anything else (a word, a date, a host name).
func explainDrop(tok string) (d dropped, ok bool) {
	tok = strings.Trim(tok, "()[]{}.:!?")
	if len(tok) >= 4 && tok[3] == '_' && isLetters(tok[:3]) {
		id := restoreCase(tok)
		prefix, body := id[:3], id[4:]
		for _, k := range idKinds {
			if k.prefix != prefix {
				continue
			}
			why := "“" + prefix + "_” must be followed by 16 to 33 letters or digits"
			switch {
			case strings.IndexFunc(body, func(r rune) bool { return !(r < 128 && isAlnum(byte(r))) }) >= 0:
				why = "it has characters other than letters and digits after “" + prefix + "_”"
			case len(body) < 16 || len(body) > 33:
				why = "it has " + strconv.Itoa(len(body)) + " characters after “" + prefix + "_”, not 16 to 33"
			}
			return dropped{text: shown(tok), kind: k.noun + " id", why: "not a valid " + k.noun + " id: " + why}, true
		}
		if prefix == registry.PrefixSupplier {
			return dropped{text: shown(tok), kind: "supplier id", why: "a supplier id, and suppliers have no page here: search for one of its projects or its organisation"}, true
		}
		return dropped{text: shown(tok), kind: "id", why: "an id of a kind the explorer does not look up (“" + prefix + "_”; it looks up credit batch ctb_, issuance iss_, retirement ret_, project prj_ and organisation org_ ids)"}, true
	}
	hyphens := 0
	for _, r := range tok {
		if registry.IsSerialHyphen(r) {
			hyphens++
		}
	}
	if hyphens < 3 {
		return dropped{}, false
	}
	// The same parser, and so the same reason, as /serial/{serial}.
	var se *registry.SerialError
	if _, err := registry.ParseSerial(tok); errors.As(err, &se) {
		return dropped{text: shown(tok), kind: "serial number", why: "not a valid serial number: " + se.Why}, true
	}
	return dropped{}, false
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// restoreCase is registry.RestoreCase: what a spreadsheet's LOWER() did to an id, undone.
func restoreCase(id string) string { return registry.RestoreCase(id) }
