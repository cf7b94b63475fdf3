package registry

import (
	"net/url"
	"strings"
	"unicode"
)

// TargetKind is what a piece of pasted text names.
type TargetKind int

// The kinds of thing Recognise and ParseQuery find.
const (
	TargetBatch TargetKind = iota + 1
	TargetSerial
	TargetIssuance
	TargetRetirement
	TargetProject
	TargetOrganisation
)

// Target is one thing pasted text names, in canonical form: an id ("ctb_…", "iss_…",
// "ret_…", "prj_…", "org_…") with its case restored, or a serial number as Serial.String writes it.
type Target struct {
	Kind  TargetKind
	Value string
}

// ParseQuery finds what pasted text names: credit batch, issuance, retirement, project and
// organisation ids, and serial numbers, alone, in a pasted URL (path segments, query values,
// fragment) or in pasted text, in the order they appear and without repeats. Full-width forms
// (a CJK input method's) are read as their ASCII. It never contacts anything. Callers bound
// the length of q: it is read whole.
func ParseQuery(q string) []Target {
	out, _ := ParseQueryExplained(q)
	return out
}

// ParseQueryExplained is ParseQuery that also returns the pieces it could not read as a
// target, in order and without repeats: whole tokens, and the parts of a pasted URL that named
// nothing. Most are words; callers say which look meant as an id or a serial, and why not.
func ParseQueryExplained(q string) (targets []Target, unread []string) {
	q = joinAtHyphens(FoldWidth(q))
	seen := map[Target]bool{}
	seenUnread := map[string]bool{}
	add := func(t Target) {
		if !seen[t] {
			seen[t] = true
			targets = append(targets, t)
		}
	}
	skip := func(tok string) {
		if !seenUnread[tok] {
			seenUnread[tok] = true
			unread = append(unread, tok)
		}
	}
	for _, tok := range strings.FieldsFunc(q, func(r rune) bool {
		return isQuerySpace(r) || strings.ContainsRune(",;|<>\"'`", r)
	}) {
		if strings.ContainsAny(tok, "/?#") {
			found := false
			for _, part := range urlParts(tok) {
				if t, ok := Recognise(part); ok {
					add(t)
					found = true
				}
			}
			if !found {
				for _, part := range strings.FieldsFunc(tok, func(r rune) bool { return strings.ContainsRune("/?#&=", r) }) {
					skip(part)
				}
			}
			continue
		}
		if t, ok := Recognise(tok); ok {
			add(t)
			continue
		}
		skip(tok)
	}
	return targets, unread
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
			if _, ok := Recognise(p); ok {
				return parts
			}
		}
	}
	return split(u.Fragment)
}

// Recognise recognises one token: an id of a kind the explorer knows (credit batch, issuance,
// retirement; case restored as RestoreCase does), or a serial number (ParseSerial's
// tolerance, canonical form).
func Recognise(tok string) (Target, bool) {
	tok = strings.Trim(tok, "()[]{}.:!?")
	if len(tok) < 4 {
		return Target{}, false
	}
	if tok[3] == '_' {
		id := RestoreCase(tok)
		for _, k := range []struct {
			prefix string
			kind   TargetKind
		}{{PrefixCreditBatch, TargetBatch}, {PrefixIssuance, TargetIssuance}, {PrefixRetirement, TargetRetirement},
			{PrefixProject, TargetProject}, {PrefixOrganisation, TargetOrganisation}} {
			if strings.HasPrefix(id, k.prefix+"_") && ValidateID(k.prefix, id) == nil {
				return Target{k.kind, id}, true
			}
		}
		return Target{}, false
	}
	// The one serial parser also undoes what spreadsheets do to a serial; the canonical form
	// is what the lookup and its URL use.
	if s, err := ParseSerial(tok); err == nil {
		return Target{TargetSerial, s.String()}, true
	}
	return Target{}, false
}

// joinAtHyphens drops the white space beside a hyphen or a dash, where a PDF, an e-mail or a
// narrow cell wrapped a serial number, and the soft hyphens and zero-width characters a web
// page puts inside long tokens, so that the serial is one token again: the characters are
// ParseSerial's own (IsSerialHyphen, IsInvisible). Other runs of white space become one space.
// Ids have no hyphen, so they are never joined to their neighbours.
func joinAtHyphens(q string) string {
	var b strings.Builder
	b.Grow(len(q))
	space, lastDash := false, false
	for _, r := range q {
		switch {
		case IsInvisible(r):
			continue // neither a character of the token nor a separator
		case isQuerySpace(r):
			space = true
			continue
		}
		dash := IsSerialHyphen(r)
		if space && !dash && !lastDash && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
		lastDash = dash
	}
	return b.String()
}

// isQuerySpace is what separates or surrounds pasted values, zero-width ones included (they
// come along when copying from web pages).
func isQuerySpace(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' }

// RestoreCase undoes what a spreadsheet's LOWER() or UPPER(), or a chat client, did to an id:
// the prefix is always lower case and the registry's ids are upper case after it, so a prefix
// is put in lower case and a body wholly in lower case in upper case. A mixed-case body is left
// as typed: which letters were changed would be a guess.
func RestoreCase(id string) string {
	if len(id) < 4 || id[3] != '_' {
		return id
	}
	body := id[3:]
	if strings.ToLower(body) == body {
		body = strings.ToUpper(body)
	}
	return strings.ToLower(id[:3]) + body
}
