package handlers

import (
	"net/url"
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

// parseQuery finds what a search query names: credit batch, issuance and retirement ids,
// and serial numbers, alone, in a pasted URL (path segments, query values, fragment) or in
// pasted text, in the order they appear and without repeats. It never contacts anything.
func parseQuery(q string) []target {
	// Full-width forms (a CJK input method's) are the same characters to whoever typed them:
	// "ｃｔｂ＿…", "ＩＳＯ－１－…", even a pasted "ｈｔｔｐｓ：／／…".
	q = joinAtHyphens(trimQuery(registry.FoldWidth(q)))
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

// urlParts splits a URL into the pieces that may hold an id or a serial: its path segments;
// its query values only when the path holds nothing (our own /batches/{id}?serial=… names one
// batch, not two things); its fragment only when neither does (a single-page app's route), so
// that a link to a row of one of our own pages still names the page's batch.
func urlParts(raw string) []string {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '?' || r == '&' || r == '=' || r == '#' })
	}
	u, err := url.Parse(raw)
	if err != nil {
		return split(raw)
	}
	var query []string
	for _, vs := range u.Query() {
		query = append(query, vs...)
	}
	for _, parts := range [][]string{strings.Split(u.Path, "/"), query} {
		for _, p := range parts {
			if _, ok := classify(p); ok {
				return parts
			}
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
		id := restoreCase(tok)
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
	// The one serial parser (registry.ParseSerial) also undoes what spreadsheets do to a
	// serial; the canonical form is what the lookup and its URL use.
	if s, err := registry.ParseSerial(tok); err == nil {
		return target{targetSerial, s.String()}, true
	}
	return target{}, false
}

// joinAtHyphens drops the white space beside a hyphen or a dash, where a PDF, an e-mail or a
// narrow cell wrapped a serial number, and the soft hyphens and zero-width characters a web
// page puts inside long tokens, so that the serial is one token again: the characters are
// registry.ParseSerial's own (IsSerialHyphen, IsInvisible). Other runs of white space become one space. Ids have no hyphen, so they are
// never joined to their neighbours.
func joinAtHyphens(q string) string {
	var b strings.Builder
	b.Grow(len(q))
	space, lastDash := false, false
	for _, r := range q {
		switch {
		case registry.IsInvisible(r):
			continue // neither a character of the token nor a separator
		case isSpace(r):
			space = true
			continue
		}
		dash := registry.IsSerialHyphen(r)
		if space && !dash && !lastDash && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
		lastDash = dash
	}
	return b.String()
}

// restoreCase undoes what a spreadsheet's LOWER() or UPPER(), or a chat client, did to an id:
// the prefix is always lower case and the registry's ids are upper case after it, so a prefix
// is put in lower case and a body wholly in lower case in upper case. A mixed-case body is left
// as typed: which letters were changed would be a guess.
func restoreCase(id string) string {
	if len(id) < 4 || id[3] != '_' {
		return id
	}
	body := id[3:]
	if strings.ToLower(body) == body {
		body = strings.ToUpper(body)
	}
	return strings.ToLower(id[:3]) + body
}
