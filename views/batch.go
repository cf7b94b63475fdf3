package views

import (
	"slices"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// LineageOptions bounds how much of a lineage tree a page renders. Zero values take the
// defaults given.
type LineageOptions struct {
	// MaxRows bounds the tree rows a lineage page renders in full. Past it, subtrees render
	// collapsed and are fetched on demand, so that a 30,000-batch tree stays a small page.
	// The path from the root to the batch is always rendered, whatever its length. Default 1,500.
	MaxRows int
	// MaxFragmentRows bounds the rows of one on-demand subtree fragment. Default 400.
	MaxFragmentRows int
	// MaxNest bounds how deeply the tree's lists nest in the HTML: deeper subtrees continue
	// at the same level, labelled with their parent. Default 16.
	MaxNest int
	// FoldRun is the length from which a run of splits that each continue in one half only (a
	// chain peeled by small retirements) renders as a flat list instead of nesting once per
	// split. Default 3.
	FoldRun int
	// MaxProblems bounds the problems listed at the foot of the page (every problem is still
	// marked at its batch). Default 500.
	MaxProblems int
	// MaxHolders bounds the rows of the totals-by-holder table; the rest are summed in one
	// row. Default 50.
	MaxHolders int
	// Chart sizes and bounds the icicle chart (its Current is always the page's batch).
	Chart IcicleOptions
}

func (o LineageOptions) withDefaults() LineageOptions {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxRows, 1500)
	def(&o.MaxFragmentRows, 400)
	def(&o.MaxNest, 16)
	def(&o.FoldRun, 3)
	def(&o.MaxProblems, 500)
	def(&o.MaxHolders, 50)
	return o
}

// BatchPage is the lineage page of one credit batch.
type BatchPage struct {
	Base
	Header  BatchHeader // the batch itself
	Path    PathView    // root to batch
	Tree    TreeView    // the whole tree, bounded by LineageOptions
	Totals  TotalsView  // sums of the unsplit batches
	Chart   IcicleView  // the tree at a glance
	Audit   AuditView   // whether the record adds up, and every problem found
	JSONURL string      // the lineage as JSON (/api/v1/batches/{id}/lineage)
	CSVURL  string      // the lineage as CSV (/batches/{id}/lineage.csv)
	// ChartURL is the chart zoomed to the batch's branch (ChartURL); "" for a root, whose
	// branch is the whole chart.
	ChartURL string
	// FetchFailed is how many batches could not be fetched (upstream errors); the page then
	// offers RetryURL.
	FetchFailed int
	// Truncated is how many linked batches were not fetched because of the walk's node bound.
	Truncated int
	RetryURL  string // walks the tree again; set when FetchFailed > 0
	Batches   string // nodes in the tree, formatted
	Depth     int    // depth of the deepest node (splits below the root)
	WalkedAt  string // when the walk started
	WalkTook  string // how long it took
	// Within, when set, says that the page was reached from a serial number that is not the
	// batch's own but lies inside its range (see NewSerialNotice).
	Within *SerialNotice
	// History is what the explorer has observed of the tree over time (zero: none kept).
	History HistoryView
	// Since, when set, is the summary of what changed since the day of ?since=; AsOf, when
	// set, says that the tree is a reconstruction as of the day of ?as_of=.
	Since *SinceView
	AsOf  *AsOfView
	// Watch are the forms that watch the tree (and the serial number the page was reached
	// by); none when the explorer keeps no watch lists.
	Watch []WatchButton
}

// BatchHeader is the header of a lineage page: every field of the batch, display-ready.
// Empty strings mean the registry has no value.
type BatchHeader struct {
	// Sub: the header is part of another page (a long walk's progress page), under that
	// page's h1, so its heading is an h2: a page has one h1.
	Sub         bool
	ID          string       // credit batch id
	Serial      string       // serial number, as the registry spells it
	Status      StatusView   // active, split, retired (or why the batch is missing)
	Credits     string       // size in credits, three decimals, exact
	Kg          string       // size in kg with thousands separators, exact
	Owner       OrgView      // who holds it (for a retired batch: who retired it)
	Beneficiary *OrgView     // nil when the registry names none
	IssuanceID  string       // the issuance that created its tree
	ProjectID   string       // project id
	SupplierID  string       // supplier id
	Retirement  string       // retirement id, "" unless retired
	RetiredAt   DateView     // "2024-05-12 14:03 UTC"
	IssuedAt    DateView     // "2024-05-12 14:03 UTC"
	Sequestered DateView     // "2024-05-12", the day as the registry wrote it
	DeliveredAt DateView     // "2024-05-12 14:03 UTC"
	DeliveryID  string       // delivery id
	Country     string       // country of issue, ISO 3166-1 alpha-3
	RemovalID   string       // removal id
	CCP         string       // "yes" or "no"
	ParentID    string       // the batch it was split from, "" for a root
	LeftID      string       // left half, "" unless split
	RightID     string       // right half, "" unless split
	Removal     *RemovalView // carbon removal accounting, nil when the registry has none
	// Unread lists the record's other fields whose values could not be read (the dates above
	// carry their own mark), each shown as sent.
	Unread []UnreadView
	// DayParam and Day, when set ("as_of", "2026-10-01"), are kept by the links to other
	// lineage pages, so that a reader stays on the view of the day asked.
	DayParam, Day string
}

// BatchURL is the lineage page of id as the header links it (keeping the day asked).
func (h BatchHeader) BatchURL(id string) string { return WithDay(BatchURL(id), h.DayParam, h.Day) }

// unreadViews are a record's unreadable fields as a page lists them, but for those the page
// already shows marked where the value goes (shownMarked).
func unreadViews(us []registry.UnreadField, shownMarked ...string) []UnreadView {
	var out []UnreadView
	for _, u := range us {
		if !slices.Contains(shownMarked, u.Field) {
			out = append(out, UnreadView{Field: or(u.Field, "the record"), Text: u.Text(), Why: u.Why})
		}
	}
	return out
}

// UnreadView is a field of a record whose value could not be read, as the page shows it.
type UnreadView struct {
	Field string // the JSON name, e.g. "size.credit_kgs"
	Text  string // the value as sent (untrusted, cut short)
	Why   string // "not a whole number", "not text", ...
}

// RemovalView is the carbon removal accounting of a batch, in kg, formatted.
type RemovalView struct {
	Gross, Net, Emissions, Counterfactuals, Losses string // kg, with thousands separators
	// Label says in a few words whose figures these are ("as recorded on this batch", "this
	// batch's share, pro rata"), Whose in a sentence; "" on pages that show a record as sent.
	Label, Whose string
	// Source is the batch whose recorded figures these are a share of; "" when they are the
	// batch's own record.
	Source string
}

// NodeRow is one batch (or the place of one that could not be shown) in a tree or a path.
type NodeRow struct {
	ID     string     // credit batch id as linked (malformed when the link is)
	URL    string     // its own lineage page; "" for an id that is not well formed
	Anchor string     // fragment id of its row, "" when another row already carries it
	Status StatusView // the batch's status, or why it is missing
	// Credits, Kg and Share are "" for a missing batch; Share is of the root's size.
	Credits, Kg, Share string
	// HolderVerb is "held by", "retired for" or, when a retired batch names no beneficiary,
	// "retired by" (its owner) with HolderNote saying so; Holder the organisation.
	HolderVerb string
	HolderNote string
	Holder     OrgView       // owner, or beneficiary of a retired batch
	Link       string        // how it hangs from its parent: "left half", "right half", "claims this parent"
	Depth      int           // splits below the root
	Target     bool          // the batch the page is about
	OnPath     bool          // an ancestor of the target
	Err        string        // why its fetch failed, when it did
	Problems   []ProblemView // problems marked at this batch
	Since      SinceMark     // what changed here since the day of ?since= (zero: nothing, or not asked)
	// DepthUnknown: the climb to the root is still under way, so the row's depth (and its share
	// of the root) cannot be said yet; shown as such, not as a depth below the highest batch
	// found so far.
	DepthUnknown bool
	// Walk marks a row while its tree is still being walked ("not yet walked", "still
	// walking"); "" on a finished tree's page.
	Walk string
}

// TreeView is a rendered lineage tree (or the children of one node, for a fragment).
type TreeView struct {
	Items []TreeItem // the top-level rows
	Rows  int        // rows rendered
	Total int        // nodes in the whole tree
	// Collapsed is how many nodes are in subtrees not rendered (fetched on demand).
	Collapsed int
}

// TreeItem is one row of the tree and what hangs below it.
type TreeItem struct {
	Row NodeRow // the node itself
	// Open renders the children visible (the path to the target and the target's subtree).
	Open bool
	// Children are rendered nested below the row.
	Children []TreeItem
	// LazyURL is set when the node has children that are not rendered: they are fetched from
	// it when the row is opened (or found on the node's own page, without scripts).
	LazyURL string
	// Hidden is the number of descendants not rendered; HiddenProblems the problems among them.
	Hidden, HiddenProblems int
	// ContinuesFrom is set when the item is a child of an earlier row rendered at that row's
	// level rather than nested (long chains, deep trees): it names the parent.
	ContinuesFrom string
}

// PathView is the path from the root to the target. A long path shows its ends and folds the
// middle.
type PathView struct {
	Head, Middle, Tail []NodeRow // shown, folded, shown; Middle is empty for a short path
	Len                int       // steps in all, the root and the target included
	// Incomplete: the climb stopped before a batch its issuance created (an ancestor could not
	// be fetched, or the links loop), so Len-1 is only a lower bound on the depth and the top
	// of the path is not the tree's true root. TopID is that topmost batch.
	Incomplete bool
	TopID      string
}

// TotalsView sums the tree's unsplit batches.
type TotalsView struct {
	ActiveCredits, ActiveKg   string // unsplit active batches, in credits and kg
	RetiredCredits, RetiredKg string // retired batches, in credits and kg
	// OtherCredits and OtherKg sum the batches in a status the explorer does not know (never
	// counted as active); OtherStatuses names those statuses as sent ("cancelled"). HasOther
	// is set when there are any.
	OtherCredits, OtherKg string
	OtherStatuses         string
	HasOther              bool
	Batches, Missing      string      // batches present and missing, formatted
	MissingCount          int         // batches missing, as a number
	Holders               []HolderRow // by owner, largest first, at most MaxHolders
	// MoreHolders is how many holders are beyond the table; their credits are in More*.
	MoreHolders                        int
	MoreActive, MoreRetired, MoreOther string // credits of the holders beyond the table
	// Beneficiaries are the retired credits by beneficiary, largest first, at most
	// MaxHolders; the rest are summed in MoreBenefs / MoreBenefRetired.
	Beneficiaries    []TreeBeneficiaryRow
	MoreBenefs       int
	MoreBenefRetired string
	Check            string // whether the leaves add up to the root
	CheckState       string // "ok", "bad" or "unknown"
}

// HolderRow is one owner's share of a tree. The holder is always the owner: for retired
// credits, the organisation that retired them (the beneficiaries have their own table).
type HolderRow struct {
	Holder  OrgView
	Active  string // credits
	Retired string // credits
	Other   string // credits in a status the explorer does not know
	Share   string // of the root
}

// TreeBeneficiaryRow is the credits of a tree retired for one beneficiary.
type TreeBeneficiaryRow struct {
	Beneficiary OrgView // zero when None
	None        bool    // retired without a beneficiary named
	Retired     string  // credits
	Share       string  // of the root
}

// NewBatchPage builds the lineage page of t.Target from the tree a walk returned. walked is
// when the walk started.
func NewBatchPage(base Base, t *lineage.Tree, walked time.Time, opt LineageOptions) BatchPage {
	opt = opt.withDefaults()
	l := newLayout(t, t.Target.ID, opt)
	p := BatchPage{Base: base, Header: newHeader(t.Target)}
	p.Header.Removal = removalFigures(t)
	p.Tree = l.page()
	p.Path = l.path()
	p.Totals = newTotals(t, opt)
	p.Audit = newAudit(t, opt.MaxProblems, l.href)
	chart := opt.Chart
	chart.Current = t.Target.ID
	p.Chart = NewIcicle(t, chart)
	if BranchOf(t.Target) != t.Root {
		p.ChartURL = ChartURL(t.Target.ID, "")
	}
	p.JSONURL, p.CSVURL = LineageJSONURL(t.Target.ID), LineageCSVURL(t.Target.ID)
	for _, pr := range t.Problems {
		if pr.Kind == lineage.ProblemFetchFailed {
			p.FetchFailed++
		}
	}
	p.Truncated = t.Truncated
	if p.FetchFailed > 0 {
		p.RetryURL = RetryURL(t.Target.ID)
	}
	p.Batches = FormatCount(t.Len())
	p.Depth = l.maxDepth
	if !walked.IsZero() {
		p.WalkedAt = walked.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	p.WalkTook = FormatDuration(t.Duration)
	return p
}

// NewSubtree builds the fragment that fills a collapsed node when it is opened: the node's
// children and as much below them as MaxFragmentRows allows. target is the batch whose page
// showed the tree. ok is false when the tree has no such node.
func NewSubtree(t *lineage.Tree, target, nodeID string, opt LineageOptions) (TreeView, bool) {
	opt = opt.withDefaults()
	n, ok := t.Nodes[nodeID]
	if !ok {
		return TreeView{}, false
	}
	l := newLayout(t, target, opt)
	return l.fragment(n), true
}

func newHeader(n *lineage.Node) BatchHeader {
	b := n.Batch
	h := BatchHeader{ID: n.ID}
	if b == nil {
		h.Status = missingStatus(n.Missing)
		return h
	}
	h.Serial = b.SerialNumber
	h.Status = statusView(b.Status)
	h.Credits = FormatCredits(b.Size.CreditKgs)
	h.Kg = FormatKg(b.Size.CreditKgs)
	h.Owner = orgView(b.Owner)
	if b.Beneficiary != nil {
		v := orgView(*b.Beneficiary)
		h.Beneficiary = &v
	}
	h.IssuanceID, h.ProjectID, h.SupplierID = b.IssuanceID, b.ProjectID, b.SupplierID
	h.Retirement, h.RetiredAt = b.RetirementID, StampView(b.RetiredAt)
	h.IssuedAt = StampView(b.IssuedAt)
	h.Sequestered = DayView(b.SequesteredOn)
	h.DeliveredAt, h.DeliveryID = StampView(b.DeliveredAt), b.DeliveryID
	h.Unread = unreadViews(b.Unread(), "retired_at", "issued_at", "sequestered_on", "sequestered_at", "delivered_at")
	h.Country, h.RemovalID = b.CountryOfIssue, b.RemovalID
	h.CCP = "no"
	if b.CCPApproved {
		h.CCP = "yes"
	}
	h.ParentID, h.LeftID, h.RightID = b.ParentID, b.LeftChildID, b.RightChildID
	if d := b.CarbonRemovalData; d != nil {
		h.Removal = &RemovalView{Gross: FormatKg(d.GrossCarbonRemovedKg), Net: FormatKg(d.NetCarbonRemovedKg),
			Emissions: FormatKg(d.EmissionsKg), Counterfactuals: FormatKg(d.CounterfactualsKg), Losses: FormatKg(d.LossesKg)}
	}
	return h
}

func newTotals(t *lineage.Tree, opt LineageOptions) TotalsView {
	tot := t.Totals()
	var rootKg int64
	if t.Root != nil && t.Root.Batch != nil {
		rootKg = t.Root.Batch.Size.CreditKgs
	}
	v := TotalsView{
		ActiveCredits: FormatCredits(tot.ActiveKg), ActiveKg: FormatKg(tot.ActiveKg),
		RetiredCredits: FormatCredits(tot.RetiredKg), RetiredKg: FormatKg(tot.RetiredKg),
		OtherCredits: FormatCredits(tot.OtherKg), OtherKg: FormatKg(tot.OtherKg),
		OtherStatuses: statusList(tot.OtherStatuses), HasOther: len(tot.OtherStatuses) > 0,
		Batches: FormatCount(tot.Batches), Missing: FormatCount(tot.Missing), MissingCount: tot.Missing,
	}
	var moreActive, moreRetired, moreOther, moreBenef int64
	for i, h := range tot.ByHolder {
		if i >= opt.MaxHolders {
			v.MoreHolders++
			moreActive += h.ActiveKg
			moreRetired += h.RetiredKg
			moreOther += h.OtherKg
			continue
		}
		v.Holders = append(v.Holders, HolderRow{Holder: orgView(h.Holder), Active: FormatCredits(h.ActiveKg),
			Retired: FormatCredits(h.RetiredKg), Other: FormatCredits(h.OtherKg),
			Share: FormatShare(h.ActiveKg+h.RetiredKg+h.OtherKg, rootKg)})
	}
	v.MoreActive, v.MoreRetired, v.MoreOther = FormatCredits(moreActive), FormatCredits(moreRetired), FormatCredits(moreOther)
	for i, b := range tot.ByBeneficiary {
		if i >= opt.MaxHolders {
			v.MoreBenefs++
			moreBenef += b.RetiredKg
			continue
		}
		row := TreeBeneficiaryRow{None: b.Beneficiary == nil, Retired: FormatCredits(b.RetiredKg), Share: FormatShare(b.RetiredKg, rootKg)}
		if b.Beneficiary != nil {
			row.Beneficiary = orgView(*b.Beneficiary)
		}
		v.Beneficiaries = append(v.Beneficiaries, row)
	}
	v.MoreBenefRetired = FormatCredits(moreBenef)

	sum := tot.SumKg()
	held := "active and retired batches"
	if v.HasOther {
		held = "active, retired and other-status batches"
	}
	splits := map[string]bool{}
	for _, p := range t.Problems {
		if p.Kind == lineage.ProblemRangePartition {
			splits[p.BatchID] = true
		}
	}
	ranges := len(splits)
	switch {
	case rootKg == 0 || tot.Missing > 0 || t.Truncated > 0:
		v.CheckState = "unknown"
		// Truncated nodes are among tot.Missing already: they hang in the tree unfetched.
		v.Check = "Cannot be checked: " + FormatCount(tot.Missing) + " " +
			plural(tot.Missing, "batch is", "batches are") + " missing from the tree."
	case sum == rootKg && ranges > 0:
		// The kg alone would say conserved; the units say otherwise.
		v.CheckState = "bad"
		v.Check = "Does not add up: " + held + " hold the root's " + FormatKg(rootKg) + " kg, but their serial ranges do not: " +
			FormatCount(ranges) + " " + plural(ranges, "split holds", "splits hold") + " units twice, not at all, or outside the parent (see the audit)."
	case sum == rootKg:
		v.CheckState = "ok"
		v.Check = "Adds up: " + held + " hold the root's " + FormatKg(rootKg) + " kg exactly."
	default:
		v.CheckState = "bad"
		diff := sum - rootKg
		word := "more"
		if diff < 0 {
			diff, word = -diff, "less"
		}
		v.Check = "Does not add up: " + held + " hold " + FormatKg(diff) + " kg " + word +
			" than the root's " + FormatKg(rootKg) + " kg."
	}
	return v
}

// holderWords says how a batch's Holder relates to it. A retired batch without a beneficiary
// (the audit flags it) is not "retired for" its owner: the record does not say for whom.
func holderWords(b *registry.CreditBatch) (verb, note string) {
	switch {
	case b.Status != registry.StatusRetired:
		return "held by", ""
	case b.Beneficiary == nil:
		return "retired by", "(no beneficiary named)"
	}
	return "retired for", ""
}
