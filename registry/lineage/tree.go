package lineage

import (
	"cmp"
	"slices"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

// Missing says why a node of a lineage tree has no batch.
type Missing string

// The reasons a node has no batch. "" means the batch is there.
const (
	MissingNone        Missing = ""
	MissingNotFound    Missing = "not_found"    // the upstream answered 404 for the id
	MissingInvalidID   Missing = "invalid_id"   // the id is malformed, so it was never asked for
	MissingFetchFailed Missing = "fetch_failed" // the upstream failed after every retry
	MissingTruncated   Missing = "truncated"    // not fetched: the tree reached its node bound
	MissingRepeated    Missing = "repeated"     // the id already appears elsewhere in the tree; not followed
)

// Link says how a node hangs from its parent node.
type Link string

// The ways a node hangs from its parent.
const (
	LinkRoot  Link = ""      // the root of the tree
	LinkLeft  Link = "left"  // the parent's left_child_id
	LinkRight Link = "right" // the parent's right_child_id
	// LinkClaimed: the node's parent_id names the parent, which does not list it as a child.
	// It is kept where it claims to be so that the tree shows everything that was fetched.
	LinkClaimed Link = "claimed"
)

// Node is one credit batch in a lineage tree, or the place of one that could not be shown.
type Node struct {
	ID       string
	Batch    *registry.CreditBatch // nil when Missing != MissingNone; shared, do not modify
	Missing  Missing
	Err      string // why the fetch failed (MissingFetchFailed), safe to show escaped
	Link     Link
	Parent   *Node
	Children []*Node // in the order left, right, then claimed ones
	Depth    int     // 0 for the root
}

// KgOrZero is the node's size in kg, or 0 when its batch is missing.
func (n *Node) KgOrZero() int64 {
	if n.Batch == nil {
		return 0
	}
	return n.Batch.Size.CreditKgs
}

// ProblemKind names a kind of inconsistency or gap found in a lineage.
type ProblemKind string

// The problems the walk records. The audit adds its own kinds.
const (
	// ProblemDangling: a link (parent_id or a child id) names a batch the upstream does not have.
	ProblemDangling ProblemKind = "dangling_link"
	// ProblemInvalidLink: a link names an id that is not well formed.
	ProblemInvalidLink ProblemKind = "invalid_link"
	// ProblemFetchFailed: a linked batch could not be fetched (upstream failure after retries).
	ProblemFetchFailed ProblemKind = "fetch_failed"
	// ProblemParentMismatch: a batch listed as a child has a parent_id naming another batch.
	ProblemParentMismatch ProblemKind = "parent_mismatch"
	// ProblemUnlisted: a batch's parent_id names a batch that does not list it as a child.
	ProblemUnlisted ProblemKind = "unlisted_child"
	// ProblemCycle: following links leads back to a batch already on the path.
	ProblemCycle ProblemKind = "cycle"
	// ProblemRepeated: one id is linked from two places in the tree.
	ProblemRepeated ProblemKind = "repeated_id"
	// ProblemTruncated: the tree has more batches than the node bound; the rest were not fetched.
	ProblemTruncated ProblemKind = "truncated"
)

// Problem is one inconsistency or gap, located at a batch. Detail is our own text (ids and
// figures; a value the registry sent, such as a serial or an unreadable field, only quoted and
// cut short, never upstream prose), safe to show escaped.
type Problem struct {
	Kind    ProblemKind `json:"kind"`
	BatchID string      `json:"batch_id"`          // where it is marked
	Related string      `json:"related,omitempty"` // the other batch involved, if any
	Detail  string      `json:"detail"`
}

// Tree is the lineage of a credit batch: the whole tree from the root batch its issuance created
// (or as far up as the links could be followed) down to every descendant.
type Tree struct {
	Root     *Node
	Target   *Node            // the batch the walk was asked for
	Nodes    map[string]*Node // every node by id; for a repeated id, the first place it was found
	Problems []Problem
	// Truncated counts the nodes left unfetched because of the node bound.
	Truncated int
	// Fetched counts the batches obtained (from cache or upstream) during the walk.
	Fetched int
	// FetchFailed counts the nodes the registry failed to send however often the walk asked
	// (MissingFetchFailed): the registry stayed unreachable. See Partial.
	FetchFailed int
	Duration    time.Duration
	// Walked is when the walk ended: the tree shows what the registry (or the cache) said up
	// to then, so that what was observed later is not counted against it.
	Walked time.Time

	problemsAt map[string][]int
}

// WithTarget returns the same tree seen from another of its nodes: nodes, problems and
// figures are shared (and must not be modified), only Target differs.
func (t *Tree) WithTarget(n *Node) *Tree {
	view := *t
	view.Target = n
	return &view
}

// Partial reports whether the registry failed to send some of the tree's batches (FetchFailed
// > 0): walking it again may fill the holes, so a partial tree is not kept to be served again.
func (t *Tree) Partial() bool { return t.FetchFailed > 0 }

// Len is the number of nodes, missing ones included.
func (t *Tree) Len() int { return len(t.Nodes) }

// Path returns the nodes from the root down to the target, both included.
func (t *Tree) Path() []*Node {
	var path []*Node
	for n := t.Target; n != nil; n = n.Parent {
		path = append(path, n)
	}
	slices.Reverse(path)
	return path
}

// ProblemsAt returns the problems marked at the batch with this id.
func (t *Tree) ProblemsAt(id string) []Problem {
	idx := t.problemsAt[id]
	out := make([]Problem, len(idx))
	for i, j := range idx {
		out[i] = t.Problems[j]
	}
	return out
}

// AddProblem records a problem and indexes it by batch id.
func (t *Tree) AddProblem(p Problem) {
	if t.problemsAt == nil {
		t.problemsAt = map[string][]int{}
	}
	t.problemsAt[p.BatchID] = append(t.problemsAt[p.BatchID], len(t.Problems))
	t.Problems = append(t.Problems, p)
}

// sortProblems orders the problems by where their batch sits in the tree (pre-order), then by
// kind, so that the list reads top to bottom and does not depend on the order fetches finished.
func (t *Tree) sortProblems(order map[string]int) {
	at := func(id string) int {
		if i, ok := order[id]; ok {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(t.Problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(at(a.BatchID), at(b.BatchID)), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Related, b.Related))
	})
	t.problemsAt = map[string][]int{}
	for i, p := range t.Problems {
		t.problemsAt[p.BatchID] = append(t.problemsAt[p.BatchID], i)
	}
}

// Each calls fn for every node in pre-order (a node before its children, left before right),
// without recursion, so that a chain of any depth is safe. fn returns false to skip a node's
// children.
func (t *Tree) Each(fn func(*Node) bool) {
	if t.Root == nil {
		return
	}
	stack := []*Node{t.Root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !fn(n) {
			continue
		}
		for i := len(n.Children) - 1; i >= 0; i-- {
			stack = append(stack, n.Children[i])
		}
	}
}

// HolderTotal is the kg of a tree's unsplit batches owned by one organisation: active (it
// holds them), retired (it retired them, for whichever beneficiary) and in a status the
// explorer does not know (OtherKg).
type HolderTotal struct {
	Holder    registry.Organisation
	ActiveKg  int64
	RetiredKg int64
	OtherKg   int64
}

// kg is everything the holder owns, in every status.
func (h HolderTotal) kg() int64 { return h.ActiveKg + h.RetiredKg + h.OtherKg }

// BeneficiaryTotal is the kg of a tree's retired batches retired for one beneficiary.
// Beneficiary is nil for retired batches that name none (the audit reports them).
type BeneficiaryTotal struct {
	Beneficiary *registry.Organisation
	RetiredKg   int64
}

// Totals sums a tree's unsplit batches, in kg, by status: active, retired, and any other
// status (one the explorer does not know: not counted as active, since it may not be).
type Totals struct {
	ActiveKg  int64
	RetiredKg int64
	OtherKg   int64
	// OtherStatuses are the unknown statuses seen among the unsplit batches, as sent, sorted.
	OtherStatuses []registry.Status
	// ByHolder: kg by owner (the holder is always the owner; a retired batch's owner is who
	// retired it), largest first.
	ByHolder []HolderTotal
	// ByBeneficiary: retired kg by beneficiary, largest first.
	ByBeneficiary []BeneficiaryTotal
	Batches       int // batches present in the tree
	Missing       int // nodes whose batch could not be shown (repeated-id placeholders excluded)
}

// SumKg is the kg of every unsplit batch, whatever its status: what conservation checks
// against the root.
func (t Totals) SumKg() int64 { return t.ActiveKg + t.RetiredKg + t.OtherKg }

// Totals sums the tree. Split batches are not counted (their kg are in their children);
// missing nodes are counted in Missing only.
func (t *Tree) Totals() Totals {
	var tot Totals
	by := map[string]*HolderTotal{}
	benef := map[string]*BeneficiaryTotal{}
	others := map[registry.Status]bool{}
	t.Each(func(n *Node) bool {
		if n.Batch == nil {
			// A repeated id's placeholder stands for a batch shown elsewhere in the tree.
			if n.Missing != MissingRepeated {
				tot.Missing++
			}
			return true
		}
		tot.Batches++
		b := n.Batch
		if b.Status == registry.StatusSplit {
			return true
		}
		ht := by[b.Owner.ID]
		if ht == nil {
			ht = &HolderTotal{Holder: b.Owner}
			by[b.Owner.ID] = ht
		}
		kg := b.Size.CreditKgs
		switch b.Status {
		case registry.StatusActive:
			tot.ActiveKg += kg
			ht.ActiveKg += kg
		case registry.StatusRetired:
			tot.RetiredKg += kg
			ht.RetiredKg += kg
			key := ""
			if b.Beneficiary != nil {
				key = "org:" + b.Beneficiary.ID
			}
			bt := benef[key]
			if bt == nil {
				bt = &BeneficiaryTotal{}
				if b.Beneficiary != nil {
					o := *b.Beneficiary
					bt.Beneficiary = &o
				}
				benef[key] = bt
			}
			bt.RetiredKg += kg
		default:
			tot.OtherKg += kg
			ht.OtherKg += kg
			others[b.Status] = true
		}
		return true
	})
	for _, ht := range by {
		tot.ByHolder = append(tot.ByHolder, *ht)
	}
	slices.SortFunc(tot.ByHolder, func(a, b HolderTotal) int {
		return cmp.Or(cmp.Compare(b.kg(), a.kg()), cmp.Compare(a.Holder.ID, b.Holder.ID))
	})
	for _, bt := range benef {
		tot.ByBeneficiary = append(tot.ByBeneficiary, *bt)
	}
	slices.SortFunc(tot.ByBeneficiary, func(a, b BeneficiaryTotal) int {
		return cmp.Or(cmp.Compare(b.RetiredKg, a.RetiredKg), cmp.Compare(beneficiaryKey(a.Beneficiary), beneficiaryKey(b.Beneficiary)))
	})
	for s := range others {
		tot.OtherStatuses = append(tot.OtherStatuses, s)
	}
	slices.Sort(tot.OtherStatuses)
	return tot
}

func beneficiaryKey(o *registry.Organisation) string {
	if o == nil {
		return ""
	}
	return "org:" + o.ID
}
