package demo

// Fixtures names well-known objects of the demo dataset for tests and benchmarks. Every id is
// the same on every run. Credit batch ids are "ctb_…", issuances "iss_…", retirements "ret_…",
// organisations "org_…", projects "prj_…", suppliers "spl_…". All sizes are in kg.
type Fixtures struct {
	// DeepChainRoot is the root of a chain peeled by DeepChainDepth small retirements: every
	// split retires a small left half (50–1,000 kg) and the right remainder is split again.
	DeepChainRoot string
	// DeepChainLeaf is the chain's tip, the active remainder at depth DeepChainDepth.
	DeepChainLeaf string
	// DeepChainDepth is the number of splits between DeepChainRoot and DeepChainLeaf (≥ 300).
	DeepChainDepth int

	// WideRoot is the root of a wide, fairly balanced tree: deliveries to many buyers,
	// transfers between them and retirements for several beneficiaries.
	WideRoot string
	// WideLeafDeep is a leaf of the WideRoot tree exactly 10 splits below the root.
	WideLeafDeep string
	// WideNodeCount is the number of batches in the WideRoot tree (2,000–4,000).
	WideNodeCount int

	// HugeRoot is the root of a tree of HugeNodeCount batches, for "large trees stay fast".
	HugeRoot string
	// HugeNodeCount is the number of batches in the HugeRoot tree (about 30,000).
	HugeNodeCount int

	// BigKgRoot is a split root whose credit_kgs exceeds 2^53 (as does its left child's); its
	// two children sum to it exactly. Any float64 on the way loses the last units.
	BigKgRoot string

	// HostileOrgBatch is an active batch owned by an organisation whose name is markup
	// (<script>alert("owner")</script> & <b>Sons</b>). Its sibling was retired for a
	// beneficiary whose name is markup too (HostileRetirement).
	HostileOrgBatch string
	// HostileRetirement is a retirement whose beneficiary name and notes contain markup.
	HostileRetirement string

	// AllFinalRoot is a 15-batch tree in which every batch is split or retired, so that a warm
	// walk of it needs no upstream request.
	AllFinalRoot string

	// Issuance has several supplier and buffer-pool roots (12 and 4), some of them split.
	Issuance string
	// LastPageIssuance is the oldest issuance: GET /issuances?first=50 lists it only on the
	// last page.
	LastPageIssuance string
	// Retirement retires batches from several trees of several issuances.
	Retirement string
	// Delivery is the deep chain's delivery: its root, delivered whole and split since, is the
	// one batch GET /deliveries/{id}/credit_batches lists ("dlv_…").
	Delivery string
	// Organisation is a buyer owning or being the beneficiary of many batches (more than a
	// page of GET /organisations/{id}/credit_batches).
	Organisation string
	// UnbalancedOrganisation is a buyer whose GET /organisations/{id}/credit_balance reports
	// UnbalancedOrganisationKg more active kg than the active batches it owns add up to (a
	// planted fault: its batches are consistent, its balance is not).
	UnbalancedOrganisation string
	// UnbalancedOrganisationKg is how many kg UnbalancedOrganisation's balance overstates.
	UnbalancedOrganisationKg int64
	// Project is a project whose short_code has a leading zero ("01P4").
	Project string
	// Supplier is the supplier of Project.
	Supplier string

	// PlantedIssuance is the issuance whose roots are the planted trees below (all but
	// ParentCycle, whose batches have no root), plus two consistent roots.
	PlantedIssuance string

	// The planted inconsistencies, each in a small tree of its own. Each field names the id to
	// start a walk from; Planted describes what is wrong and where.

	// DanglingChild is a split root whose right_child_id names a well-formed id that answers 404.
	DanglingChild string
	// WrongParent is a split root whose right child's parent_id names its sibling (an existing
	// batch) instead of the root.
	WrongParent string
	// SizeMismatch is a split root whose children sum to 1,000 kg less than it.
	SizeMismatch string
	// Cycle is the root of a tree in which a batch two levels down lists its own parent as its
	// left child: walking down never ends without cycle detection.
	Cycle string
	// ParentCycle is an active batch whose parent's parent_id points back at it: climbing
	// never ends without cycle detection.
	ParentCycle string
	// RepeatedChild is the root of a tree in which both of the root's children list the same
	// batch as their right child.
	RepeatedChild string
	// OneChildSplit is a split root with a left child (holding its whole size and range) and a
	// null right_child_id.
	OneChildSplit string
	// RangeGap is a split root whose children's sizes add up but whose right child's range
	// starts 500 units after the left child's end (and so ends 500 past the root's).
	RangeGap string
	// MixedIssuance is the root of a tree in which one grandchild has another issuance's
	// issuance_id and project_id.
	MixedIssuance string
	// BadStatus is a split root whose left child is retired without retirement_id, retired_at
	// or beneficiary, and whose right child is active yet has two children.
	BadStatus string

	planted map[string]string
}

// Planted maps the id of each planted fixture (the id to start a walk from) to a description
// of the problem it plants and the batch that carries it.
func (f Fixtures) Planted() map[string]string {
	m := make(map[string]string, len(f.planted))
	for k, v := range f.planted {
		m[k] = v
	}
	return m
}
