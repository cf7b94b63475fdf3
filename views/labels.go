package views

// The words and badges every page uses for what the registry sends: statuses, problems, how
// a batch hangs from its parent, organisations.

import (
	"strconv"
	"strings"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

func problemView(p lineage.Problem, href string) ProblemView {
	return ProblemView{Kind: problemLabel(p.Kind), Class: string(p.Kind), BatchID: p.BatchID, Href: href, Detail: p.Detail}
}

func problemLabel(k lineage.ProblemKind) string {
	switch k {
	case lineage.ProblemDangling:
		return "Dangling link"
	case lineage.ProblemInvalidLink:
		return "Malformed link"
	case lineage.ProblemFetchFailed:
		return "Not fetched"
	case lineage.ProblemParentMismatch:
		return "Parent mismatch"
	case lineage.ProblemUnlisted:
		return "Unlisted child"
	case lineage.ProblemCycle:
		return "Cycle"
	case lineage.ProblemRepeated:
		return "Repeated id"
	case lineage.ProblemTruncated:
		return "Tree truncated"
	case lineage.ProblemSizeMismatch:
		return "Size mismatch"
	case lineage.ProblemSplitShape:
		return "Split shape"
	case lineage.ProblemStatus:
		return "Incoherent status"
	case lineage.ProblemMixedLineage:
		return "Mixed lineage"
	case lineage.ProblemSerial:
		return "Serial number"
	case lineage.ProblemRangePartition:
		return "Range partition"
	case lineage.ProblemCredits:
		return "Credits mismatch"
	}
	return string(k)
}

func statusView(s registry.Status) StatusView {
	switch s {
	case registry.StatusActive, registry.StatusSplit, registry.StatusRetired:
		return StatusView{Class: string(s), Label: string(s)}
	}
	// An unknown status is upstream text: shown escaped, styled neutrally.
	return StatusView{Class: "other", Label: string(s)}
}

func missingStatus(m lineage.Missing) StatusView {
	switch m {
	case lineage.MissingNone:
		return StatusView{}
	case lineage.MissingNotFound:
		return StatusView{Class: "missing", Label: "missing: not in the registry"}
	case lineage.MissingInvalidID:
		return StatusView{Class: "missing", Label: "malformed id"}
	case lineage.MissingFetchFailed:
		return StatusView{Class: "missing", Label: "not fetched: registry error"}
	case lineage.MissingTruncated:
		return StatusView{Class: "skipped", Label: "not fetched: tree too large"}
	case lineage.MissingRepeated:
		return StatusView{Class: "skipped", Label: "repeated: shown elsewhere"}
	}
	return StatusView{Class: "missing", Label: string(m)}
}

func orgView(o registry.Organisation) OrgView { return OrgView{Name: o.Name, ID: o.ID} }

// statusList names statuses as sent, quoted so that an empty or odd one is still seen:
// `"cancelled", "pending"`.
func statusList(ss []registry.Status) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(string(s))
	}
	return strings.Join(out, ", ")
}

// linkLabel says in words how a batch hangs from the one above it ("" for a root).
func linkLabel(l lineage.Link) string {
	switch l {
	case lineage.LinkLeft:
		return "left half"
	case lineage.LinkRight:
		return "right half"
	case lineage.LinkClaimed:
		return "claims this parent"
	}
	return ""
}

// OrgView is an organisation as shown: Name is untrusted upstream text, rendered escaped.
type OrgView struct {
	Name string // display name (untrusted upstream text)
	ID   string // "org_…"
}

// Label is the name, or the id when the registry gave no name.
func (o OrgView) Label() string {
	if o.Name != "" {
		return o.Name
	}
	return o.ID
}

// StatusView is a status badge: a CSS class for the colour and a text label, so that colour is
// never the only carrier of meaning.
type StatusView struct {
	Class string // "active", "split", "retired", "missing", "skipped" or "other"
	Label string // the status in words, e.g. "retired" or "missing: not in the registry"
}

// ProblemView is one problem of the walk or the audit, linked to where it is marked.
type ProblemView struct {
	Kind    string // label, e.g. "Dangling link"
	Class   string // the kind as the registry names it, for styling and tests
	BatchID string // where it is marked
	Href    string // the row's anchor on this page, or the batch's own page
	Detail  string // our own words, ids and figures only
	// Related is the other batch involved, "" when none; RelatedHref links to it like Href,
	// and RelatedRole says how it is involved ("linked from", "root", ...).
	Related, RelatedHref, RelatedRole string
}
