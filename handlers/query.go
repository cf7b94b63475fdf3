package handlers

import (
	"errors"
	"net/url"
	"strconv"
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
	targetProject
	targetOrganisation
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
	// Full-width forms (a CJK input method's) are the same characters to whoever typed them:
	// "ｃｔｂ＿…", "ＩＳＯ－１－…", even a pasted "ｈｔｔｐｓ：／／…".
	q = joinAtHyphens(trimQuery(registry.FoldWidth(q)))
	var out []target
	var drops []dropped
	seen := map[target]bool{}
	seenDrop := map[string]bool{}
	add := func(t target) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	drop := func(tok string) {
		if d, ok := explainDrop(tok); ok && !seenDrop[d.text] {
			seenDrop[d.text] = true
			drops = append(drops, d)
		}
	}
	for _, tok := range strings.FieldsFunc(q, func(r rune) bool {
		return isSpace(r) || strings.ContainsRune(",;|<>\"'`", r)
	}) {
		if strings.ContainsAny(tok, "/?#") {
			parts := urlParts(tok)
			found := false
			for _, part := range parts {
				if t, ok := recognise(part); ok {
					add(t)
					found = true
				}
			}
			if !found {
				for _, part := range strings.FieldsFunc(tok, func(r rune) bool { return strings.ContainsRune("/?#&=", r) }) {
					drop(part)
				}
			}
			continue
		}
		if t, ok := recognise(tok); ok {
			add(t)
			continue
		}
		drop(tok)
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
			if _, ok := recognise(p); ok {
				return parts
			}
		}
	}
	return split(u.Fragment)
}

// recognise recognises one token: an id of a kind the explorer knows, or a serial number.
func recognise(tok string) (target, bool) {
	tok = strings.Trim(tok, "()[]{}.:!?")
	if len(tok) < 4 {
		return target{}, false
	}
	if tok[3] == '_' {
		id := restoreCase(tok)
		for _, k := range []struct {
			prefix string
			kind   targetKind
		}{{registry.PrefixCreditBatch, targetBatch}, {registry.PrefixIssuance, targetIssuance}, {registry.PrefixRetirement, targetRetirement},
			{registry.PrefixProject, targetProject}, {registry.PrefixOrganisation, targetOrganisation}} {
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
