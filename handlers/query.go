package handlers

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/lineage-explorer/explorer/registry"
)

// targetKind is what a piece of a search query names.
type targetKind int

const (
	targetBatch targetKind = iota + 1
	targetSerial
	targetIssuance
	targetRetirement
)

// target is one thing a search query names, in canonical form.
type target struct {
	kind  targetKind
	value string
}

// maxQueryLen bounds what the parser looks at: an id, a serial or a URL is far shorter, and a
// huge pasted text must not cost more than a glance.
const maxQueryLen = 4096

// exampleSerial is a well-formed serial number, for messages (the registry's documentation's own).
const exampleSerial = "ISO-1-BSTORE-GBR-F5X7-2024-78177-81177"

// serialRe is the shape of a serial number: registry prefix, version, pathway code, country
// (ISO 3166-1 alpha-3), project short code, vintage year, then the two ends of the unit range.
var serialRe = regexp.MustCompile(`^[A-Z]{2,12}-[0-9]{1,4}-[A-Z0-9]{1,20}-[A-Z]{3}-[A-Z0-9]{1,16}-[0-9]{4}-[0-9]{1,19}-[0-9]{1,19}$`)

// parseSerial returns the serial number in canonical (upper-case) form, or ok false when s
// does not have a serial number's shape.
func parseSerial(s string) (string, bool) {
	if len(s) > 160 {
		return "", false
	}
	u := strings.ToUpper(s)
	if !serialRe.MatchString(u) {
		return "", false
	}
	return u, true
}

// parseQuery finds what a search query names: credit batch, issuance and retirement ids,
// and serial numbers, alone, in a pasted URL (path segments, query values, fragment) or in
// pasted text, in the order they appear and without repeats. It never contacts anything.
func parseQuery(q string) []target {
	q = trimQuery(q)
	var out []target
	seen := map[target]bool{}
	add := func(t target) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, tok := range strings.FieldsFunc(q, func(r rune) bool {
		return isSpace(r) || strings.ContainsRune(",;|<>\"'`", r)
	}) {
		if strings.ContainsAny(tok, "/?#") {
			for _, part := range urlParts(tok) {
				if t, ok := classify(part); ok {
					add(t)
				}
			}
			continue
		}
		if t, ok := classify(tok); ok {
			add(t)
		}
	}
	return out
}

// urlParts splits a URL into the pieces that may hold an id or a serial: its path segments
// and query values, and its fragment only when those hold nothing (a single-page app's route),
// so that a link to a row of one of our own pages still names the page's batch.
func urlParts(raw string) []string {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '?' || r == '&' || r == '=' || r == '#' })
	}
	u, err := url.Parse(raw)
	if err != nil {
		return split(raw)
	}
	parts := strings.Split(u.Path, "/")
	for _, vs := range u.Query() {
		parts = append(parts, vs...)
	}
	for _, p := range parts {
		if _, ok := classify(p); ok {
			return parts
		}
	}
	return split(u.Fragment)
}

// classify recognises one token: an id of a kind the explorer knows, or a serial number.
func classify(tok string) (target, bool) {
	tok = strings.Trim(tok, "()[]{}.:!?")
	if len(tok) < 4 {
		return target{}, false
	}
	if tok[3] == '_' {
		// Ids are case-sensitive after the prefix; the prefix itself is always lower case.
		id := strings.ToLower(tok[:3]) + tok[3:]
		for _, k := range []struct {
			prefix string
			kind   targetKind
		}{{registry.PrefixCreditBatch, targetBatch}, {registry.PrefixIssuance, targetIssuance}, {registry.PrefixRetirement, targetRetirement}} {
			if strings.HasPrefix(id, k.prefix+"_") && registry.ValidateID(k.prefix, id) == nil {
				return target{k.kind, id}, true
			}
		}
		return target{}, false
	}
	if s, ok := parseSerial(tok); ok {
		return target{targetSerial, s}, true
	}
	return target{}, false
}
