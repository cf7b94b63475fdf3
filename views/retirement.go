package views

import (
	"strings"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// maxPathMiddle bounds the folded middle of one batch's path on a retirement page: a retirement
// can take dozens of batches from a chain hundreds of splits deep, and the whole path of each
// is one click away on the batch's own page.
const maxPathMiddle = 40

// RetirementPage is what a retirement retired and where each batch came from.
type RetirementPage struct {
	Base
	ID          string  // "ret_…"
	Beneficiary OrgView // for whom (untrusted name)
	Owner       OrgView // who retired
	Purposes    []PurposeView
	RetiredAt   DateView // "2024-05-12 14:03 UTC"
	// Unread lists the record's other fields whose values could not be read, as sent.
	Unread      []UnreadView
	Notes       string // upstream text, rendered escaped; "" when none
	Total       Amount // credit_batch_size_total
	RegistryURL string // the registry's own page of it, when it gave an http(s) one; never on the demo
	Check       Check  // the batches' sizes against the total
	Issuances   []Link // the issuances its batches came from
	Batches     []RetiredBatchView
	// Holders are the batches' credits by owner (who retired them), Beneficiaries by the
	// beneficiary each batch names; both largest first, at most maxReportRows, and HasOther
	// adds the column of a status the explorer does not know.
	Holders       []IssuanceHolderRow
	MoreHolders   int
	Beneficiaries []BeneficiaryRow
	MoreBenefs    int
	HasOther      bool

	// RecordProblems are what is wrong with the retirement's record itself (a total whose
	// credits disagree with its kg).
	RecordProblems []ProblemView

	// Table is the batches as a compact table sorted as asked (?sort=), each row's path on
	// demand.
	Table       BatchTable
	Problems    int
	FetchFailed int    // batches whose path stops at a batch not fetched; RetryURL is then set
	RetryURL    string // builds the page again
	WalkedAt    string
	WalkTook    string
}

// RetiredBatchView is one retired batch and its path from the root.
type RetiredBatchView struct {
	ID, URL     string
	Serial      string
	Size        Amount
	IssuanceID  string
	IssuanceURL string
	ProjectID   string
	Depth       string // splits below the root (below the top of the path when not Complete)
	Splits      int    // the same, as a number
	Complete    bool   // the path reaches a root
	// Path runs from the root to the batch (the batch is the Target row). When the middle is
	// longer than maxPathMiddle it is left out and PathHidden counts it.
	Path       PathView
	PathHidden int
	Problems   []ProblemView
}

// NewRetirementPage builds the retirement page from its report.
func NewRetirementPage(base Base, r *lineage.RetirementReport) RetirementPage {
	ret := r.Retirement
	p := RetirementPage{Base: base, ID: ret.ID, Beneficiary: orgView(ret.Beneficiary), Owner: orgView(ret.Owner),
		Purposes: purposeViews(ret.Purposes), RetiredAt: StampView(ret.RetiredAt), Unread: unreadViews(ret.Unread(), "retired_at"), Notes: ret.Notes,
		Total: amount(ret.CreditBatchSizeTotal.CreditKgs), RegistryURL: httpURL(ret.URL),
		Problems: r.Problems, FetchFailed: r.FetchFailed, WalkTook: FormatDuration(r.Took)}
	if base.Demo {
		// The demo's records copy the real registry's url field, so the link would present a
		// real public record as the source of made-up data.
		p.RegistryURL = ""
	}
	if !r.WalkedAt.IsZero() {
		p.WalkedAt = r.WalkedAt.UTC().Format(time.DateTime + " UTC")
	}
	if r.FetchFailed > 0 {
		p.RetryURL = RetirementRetryURL(p.ID)
	}
	for _, pr := range r.RecordProblems {
		p.RecordProblems = append(p.RecordProblems, problemView(pr, ""))
	}
	p.Check = checkSum(r.BatchesKg, ret.CreditBatchSizeTotal.CreditKgs, 0, "its batches", "the retirement’s")
	p.Issuances, _ = links(r.Issuances, len(r.Issuances), IssuanceURL)
	rows := make([]BatchRowView, 0, len(r.Batches))
	for _, b := range r.Batches {
		v := retiredBatchView(b)
		p.Batches = append(p.Batches, v)
		row := batchRowView(b.Batch, &b)
		row.Path, row.PathHidden, row.Problems, row.Incomplete = &v.Path, v.PathHidden, v.Problems, !v.Complete
		rows = append(rows, row)
	}
	total := ret.CreditBatchSizeTotal.CreditKgs
	for i, h := range r.ByHolder {
		p.HasOther = p.HasOther || h.OtherKg != 0
		if i >= maxReportRows {
			p.MoreHolders++
			continue
		}
		p.Holders = append(p.Holders, holderRow(h, total))
	}
	for i, b := range r.ByBeneficiary {
		if i >= maxReportRows {
			p.MoreBenefs++
			continue
		}
		p.Beneficiaries = append(p.Beneficiaries, beneficiaryRow(b, total))
	}
	p.Table = NewBatchTable(rows, RetirementURL(ret.ID), "")
	return p
}

// SortedBy is the page with its batches table sorted by sort (see NewBatchTable).
func (p RetirementPage) SortedBy(sort string) RetirementPage {
	p.Table = NewBatchTable(p.Table.Rows, RetirementURL(p.ID), sort)
	return p
}

// PurposeView is one purpose of a retirement: in words for readers, and as the registry's
// code for analysts who search by it. Both are upstream text, rendered escaped.
type PurposeView struct {
	Label string // "Corporate targets"
	Code  string // "corporate_targets"
}

// purposeLabels words the codes of the registry's RetirementPurpose enum. Codes it adds later
// read through purposeLabel's fallback until they are worded here.
var purposeLabels = map[string]string{
	"corporate_targets":           "Corporate targets",
	"public_environmental_claims": "Public environmental claims",
	"insetting":                   "Insetting",
	"regulatory_requirement":      "Regulatory requirement",
	"other":                       "Other",
}

// purposeLabel is a purpose code in words. An unknown code is still shown, made readable
// rather than dropped: a purpose the explorer does not know yet is still the record's.
func purposeLabel(code string) string {
	if l, ok := purposeLabels[code]; ok {
		return l
	}
	l := strings.TrimSpace(strings.ReplaceAll(code, "_", " "))
	if l == "" {
		return "(blank)"
	}
	return Capitalised(l)
}

func purposeViews(codes []string) []PurposeView {
	out := make([]PurposeView, len(codes))
	for i, c := range codes {
		out[i] = PurposeView{Label: purposeLabel(c), Code: c}
	}
	return out
}

func retiredBatchView(rb lineage.RetiredBatch) RetiredBatchView {
	b := rb.Batch
	v := RetiredBatchView{ID: b.ID, URL: BatchURL(b.ID), Serial: b.SerialNumber, Size: amount(b.Size.CreditKgs),
		IssuanceID: b.IssuanceID, ProjectID: b.ProjectID, Depth: FormatCount(rb.Depth()), Splits: rb.Depth(), Complete: rb.Complete}
	if registry.ValidateID(registry.PrefixIssuance, b.IssuanceID) == nil {
		v.IssuanceURL = IssuanceURL(b.IssuanceID)
	}
	rows := make([]NodeRow, len(rb.Path))
	for i, s := range rb.Path {
		r := NodeRow{ID: s.ID, URL: BatchURL(s.ID), Status: statusView(s.Status), Credits: FormatCredits(s.CreditKgs),
			Kg: FormatKg(s.CreditKgs), Depth: i, Target: i == len(rb.Path)-1, OnPath: i < len(rb.Path)-1,
			HolderVerb: "held by", Holder: orgView(s.Owner)}
		if s.Status == registry.StatusRetired {
			r.HolderVerb = "retired by" // the owner of a retired batch is who retired it
		}
		r.Link = linkLabel(s.Link)
		rows[i] = r
	}
	v.Path, v.PathHidden = foldPath(rows)
	for _, pr := range rb.Problems {
		v.Problems = append(v.Problems, problemView(pr, BatchURL(pr.BatchID)))
	}
	return v
}

// foldPath shows a path's ends and folds its middle, as the lineage page does; a middle longer
// than maxPathMiddle is left out and counted.
func foldPath(rows []NodeRow) (PathView, int) {
	pv := PathView{Len: len(rows)}
	const head, tail = 3, 6
	if len(rows) <= head+tail+2 {
		pv.Head = rows
		return pv, 0
	}
	pv.Head, pv.Middle, pv.Tail = rows[:head], rows[head:len(rows)-tail], rows[len(rows)-tail:]
	if n := len(pv.Middle); n > maxPathMiddle {
		pv.Middle = nil
		return pv, n
	}
	return pv, 0
}
