package views

import (
	"strings"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// maxRowLinks bounds the tree and retirement links shown in one row of a holder table; the
// rest are counted ("+12 more"), and the JSON for tools has them all.
const maxRowLinks = 8

// maxReportRows bounds the rows of a holder or beneficiary table; the rest are summed in one
// row.
const maxReportRows = 100

// IssuancePage is where an issuance's credits went.
type IssuancePage struct {
	Base
	// Since, when set, is what changed in the issuance's trees since the day of ?since=.
	Since *SinceView
	// Chart shows every root's tree side by side, as wide as its share of the issuance's kg.
	Chart       IcicleView
	ID          string  // "iss_…"
	ProjectID   string  // "prj_…"
	Supplier    OrgView // the supplier's organisation (untrusted name)
	SupplierID  string  // "spl_…"
	Issued      Amount  // credit_batch_size_total
	SupplierKg  Amount  // supplier_credit_batch_size_total
	BufferKg    Amount  // buffer_pool_credit_batch_size_total
	RootsCheck  Check   // the roots' sizes against the issued total
	Active      Amount  // unsplit active batches, every tree
	Retired     Amount  // retired batches, every tree
	ActiveShare string  // of the issued total, "62.5%"
	RetiredShr  string  // of the issued total
	// Other sums the batches in a status the explorer does not know (never counted as
	// active), OtherShare of the issued total; OtherStatuses names them as sent. HasOther is
	// set when there are any: the tables then have a column for them.
	Other         Amount
	OtherShare    string
	OtherStatuses string
	HasOther      bool

	// RecordProblems are what is wrong with the issuance's record itself (a total whose
	// credits disagree with its kg).
	RecordProblems []ProblemView

	Check       Check  // active + retired against the roots, and each tree against its root
	Batches     string // batches in every tree, formatted
	Problems    int    // found by the walks and audits, listed on each tree's page
	Missing     int    // linked batches not shown
	FetchFailed int    // of which the registry failed to send; RetryURL is then set
	RetryURL    string

	// The record's dates: the reporting period's days as the registry wrote them, the issue
	// time in UTC; a value that is no date is shown as sent, marked.
	PeriodStart DateView
	PeriodEnd   DateView
	IssuedAt    DateView
	// Unread lists the record's other fields whose values could not be read, as sent.
	Unread []UnreadView

	// Unbalanced counts the trees that do not add up on their own; UnbalancedAt is the
	// anchor of the root table that lists the first of them (their rows say "does not add up").
	Unbalanced   int
	UnbalancedAt string

	Holders       []IssuanceHolderRow // largest first, at most maxReportRows
	MoreHolders   int                 // holders beyond the table, summed in MoreActive/MoreRetired/MoreOther
	MoreActive    Amount
	MoreRetired   Amount
	MoreOther     Amount
	Beneficiaries []BeneficiaryRow // largest first, at most maxReportRows
	MoreBenefs    int
	MoreBenefKg   Amount

	SupplierRoots []RootRow // in the registry's order
	BufferRoots   []RootRow

	WalkedAt string // when the report started
	WalkTook string

	// Watch is the form that watches the issuance's trees; none when the explorer keeps no
	// watch lists.
	Watch []WatchButton
}

// IssuanceHolderRow is one current owner's share of an issuance.
type IssuanceHolderRow struct {
	Holder    OrgView
	Active    Amount // held now
	Retired   Amount // retired by it
	Other     Amount // owned in a status the explorer does not know
	Share     string // of the issued total
	Batches   string
	Trees     []Link // the trees where it holds or retired credits (their roots' lineage pages)
	MoreTrees int
}

// BeneficiaryRow is what was retired for one beneficiary.
type BeneficiaryRow struct {
	Beneficiary     OrgView // zero when None
	None            bool    // retired without a beneficiary named
	Retired         Amount
	Share           string // of the issued total
	Batches         string
	Retirements     []Link // retirement pages
	MoreRetirements int
	Trees           []Link
	MoreTrees       int
}

// RootRow is one root batch of an issuance and its tree's figures.
type RootRow struct {
	ID, URL  string
	Serial   string
	Status   StatusView
	Size     Amount // the root's size ("" when it could not be fetched)
	Active   string // credits still active in its tree
	Retired  string // credits retired from its tree
	Other    string // credits of its tree in a status the explorer does not know
	Batches  string
	Depth    string // deepest split below the root
	Problems int
	Check    Check  // the tree's unsplit batches against the root
	Err      string // why the tree could not be walked
	// SinceChanged counts the batches of its tree marked as changed since the day of ?since=.
	SinceChanged int
}

// NewIssuancePage builds the issuance page from its report.
func NewIssuancePage(base Base, r *lineage.IssuanceReport) IssuancePage {
	iss := r.Issuance
	issued := iss.CreditBatchSizeTotal.CreditKgs
	p := IssuancePage{Base: base, Chart: NewIcicleForest(r.Trees, IcicleOptions{}), ID: iss.ID, ProjectID: iss.ProjectID,
		Supplier: orgView(iss.Supplier.Organisation), SupplierID: iss.Supplier.ID,
		IssuedAt: StampView(iss.IssuedAt), PeriodStart: DayView(iss.ReportingPeriodStartAt), PeriodEnd: DayView(iss.ReportingPeriodEndAt),
		Unread: unreadViews(iss.Unread(), "issued_at", "reporting_period_start_at", "reporting_period_end_at"),
		Issued: amount(issued), SupplierKg: amount(iss.SupplierCreditBatchSizeTotal.CreditKgs),
		BufferKg: amount(iss.BufferPoolCreditBatchSizeTotal.CreditKgs),
		Active:   amount(r.ActiveKg), Retired: amount(r.RetiredKg),
		ActiveShare: FormatShare(r.ActiveKg, issued), RetiredShr: FormatShare(r.RetiredKg, issued),
		Other: amount(r.OtherKg), OtherShare: FormatShare(r.OtherKg, issued),
		OtherStatuses: statusList(r.OtherStatuses), HasOther: len(r.OtherStatuses) > 0,
		Batches: FormatCount(r.Batches), Problems: r.Problems, Missing: r.Missing, FetchFailed: r.FetchFailed,
		WalkTook: FormatDuration(r.Took)}
	if !r.WalkedAt.IsZero() {
		p.WalkedAt = r.WalkedAt.UTC().Format(time.DateTime + " UTC")
	}
	if r.FetchFailed > 0 {
		p.RetryURL = IssuanceRetryURL(p.ID)
	}
	missingRoots := 0
	for _, root := range r.Roots {
		if root.Batch == nil {
			missingRoots++
		}
	}
	for _, pr := range r.RecordProblems {
		p.RecordProblems = append(p.RecordProblems, problemView(pr, ""))
	}
	p.RootsCheck = checkSum(r.RootsKg, issued, missingRoots, "its root batches", "the issuance’s")
	p.Check = issuanceCheck(r)
	p.Unbalanced = r.UnbalancedTrees

	var moreActive, moreRetired, moreOther, moreBenef int64
	for i, h := range r.ByHolder {
		if i >= maxReportRows {
			p.MoreHolders++
			moreActive += h.ActiveKg
			moreRetired += h.RetiredKg
			moreOther += h.OtherKg
			continue
		}
		p.Holders = append(p.Holders, holderRow(h, issued))
	}
	p.MoreActive, p.MoreRetired, p.MoreOther = amount(moreActive), amount(moreRetired), amount(moreOther)
	for i, b := range r.ByBeneficiary {
		if i >= maxReportRows {
			p.MoreBenefs++
			moreBenef += b.RetiredKg
			continue
		}
		row := beneficiaryRow(b, issued)
		row.Retirements, row.MoreRetirements = links(b.Retirements, maxRowLinks, RetirementURL)
		p.Beneficiaries = append(p.Beneficiaries, row)
	}
	p.MoreBenefKg = amount(moreBenef)

	for _, root := range r.Roots {
		row := rootRow(root)
		at := "#supplier-h"
		if root.Pool == lineage.PoolBufferPool {
			p.BufferRoots = append(p.BufferRoots, row)
			at = "#buffer-h"
		} else {
			p.SupplierRoots = append(p.SupplierRoots, row)
		}
		if row.Check.State == "bad" && p.UnbalancedAt == "" {
			p.UnbalancedAt = at
		}
	}
	return p
}

// issuanceCheck says whether the credits now account for the roots. The totals alone can
// hide trees that do not add up, since their differences may cancel out, so the trees'
// own checks count too: the line names every problem known, and is never "ok" while a tree
// does not add up, whatever the sums say.
func issuanceCheck(r *lineage.IssuanceReport) Check {
	c := checkSum(r.ActiveKg+r.RetiredKg+r.OtherKg, r.RootsKg, r.Missing, heldBy(r.OtherKg != 0, "active and retired batches"), "the roots’")
	n := r.UnbalancedTrees
	if n == 0 {
		return c
	}
	trees := FormatCount(n) + " " + plural(n, "tree does not hold its root’s kg or units", "trees do not hold their roots’ kg or units")
	switch c.State {
	case "unknown":
		return Check{"bad", "Does not add up: " + trees + ". The totals cannot be checked: " + FormatCount(r.Missing) + " " +
			plural(r.Missing, "batch is", "batches are") + " missing."}
	case "ok":
		return Check{"bad", "Does not add up: " + trees + ". The totals match the roots’ " + FormatKg(r.RootsKg) +
			" kg only because " + plural(n, "its difference is made up elsewhere.", "their differences cancel out.")}
	}
	return Check{"bad", c.Text + " " + trees + "."}
}

func rootRow(r lineage.IssuanceRoot) RootRow {
	row := RootRow{ID: r.ID, Err: r.Error, Problems: r.Problems,
		Active: FormatCredits(r.ActiveKg), Retired: FormatCredits(r.RetiredKg), Other: FormatCredits(r.OtherKg),
		Batches: FormatCount(r.Batches), Depth: FormatCount(r.Depth)}
	if registry.ValidateID(registry.PrefixCreditBatch, r.ID) == nil {
		row.URL = BatchURL(r.ID)
	}
	if r.Batch == nil {
		row.Status = StatusView{Class: "missing", Label: "not shown"}
		row.Check = Check{"unknown", "Cannot be checked: the root could not be fetched."}
		return row
	}
	row.Serial = r.Batch.SerialNumber
	row.Status = statusView(r.Batch.Status)
	row.Size = amount(r.Batch.Size.CreditKgs)
	row.Check = checkSum(r.SumKg(), r.Batch.Size.CreditKgs, r.Missing, heldBy(r.OtherKg != 0, "its active and retired batches"), "the root’s")
	if row.Check.State == "ok" && r.RangeProblems > 0 {
		// The kg alone would say conserved; the units say otherwise.
		row.Check = Check{"bad", "Does not add up: the kg match the root’s, but " + FormatCount(r.RangeProblems) + " " +
			plural(r.RangeProblems, "run of units is", "runs of units are") + " held twice, by no child or outside the parent (see its tree’s audit)."}
	}
	return row
}

// heldBy names the batches a check sums, with the other statuses when there are any.
func heldBy(other bool, words string) string {
	if other {
		return strings.Replace(words, "active and retired", "active, retired and other-status", 1)
	}
	return words
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
