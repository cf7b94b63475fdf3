package demo

import (
	"time"
)

// The dataset is stored as compact structs indexed by small integers (tens of thousands of
// batches), and turned into the upstream's JSON only when a request asks for it.

type status uint8

const (
	statusActive status = iota
	statusSplit
	statusRetired
)

func (s status) String() string {
	switch s {
	case statusSplit:
		return "split"
	case statusRetired:
		return "retired"
	}
	return "active"
}

// ref points at a batch: ≥ 0 is an index into dataset.batches, noRef is null, and ≤ -2 is
// phantomRef(k), a well-formed id that belongs to no batch (dataset.phantoms[k]).
type ref int32

const noRef ref = -1

func phantomRef(k int) ref { return ref(-2 - k) }
func (r ref) phantom() int { return int(-2 - r) }

// batch is one credit batch. Sizes and serial ends are in kg (1 unit = 1 kg); the serial range is
// [first, first+kg). Times are Unix microseconds, 0 meaning null. retired_at and the beneficiary
// come from the retirement; project, supplier, removal, issued_at and sequestered_on from the
// tree (issuance can be overridden per batch to plant MixedIssuance).
type batch struct {
	kg          int64
	first       int64
	deliveredAt int64
	parent      ref
	left        ref
	right       ref
	tree        int32
	delivery    int32 // index into deliveries, -1 = null
	retirement  int32 // index into retirements, -1 = null
	issuance    int16
	owner       int16 // index into orgs
	status      status
	crd         bool // carries carbon_removal_data
}

// tree is what all batches descending from one root share.
type tree struct {
	root          int32
	issuance      int16
	project       int8
	buffer        bool // a buffer-pool root's tree
	planted       bool // deliberately inconsistent: excluded from invariant checks
	removal       string
	sequesteredOn int64 // Unix µs at midnight UTC
}

type org struct {
	id     string
	name   string
	domain *string
}

type location struct {
	countryCode, countryName string
	description              *string
	lat, lon                 float64
}

type supplier struct {
	id               string
	org              int16
	shortDescription *string
	longDescription  *string
	location         *location
}

type project struct {
	id, name, shortCode    string
	pathwayCode, pathway   string
	country, countryName   string
	protocolSlug, process  string
	supplier               int8
	ccp                    bool
	status                 string
	validator, verifier    *string
	creditStart, creditEnd *string
	location               *location

	nextSerial                 int64
	issuedKg, issuedBufferKg   int64
	retiredKg, retiredBufferKg int64
}

type issuance struct {
	id                     string
	project                int8
	issuedAt               int64
	periodStart, periodEnd int64
	supplierRoots          []int32
	bufferRoots            []int32
	supplierKg, bufferKg   int64
}

type retirement struct {
	id          string
	owner       int16
	beneficiary int16
	retiredAt   int64
	purposes    []string
	notes       *string
	kg          int64
}

type dataset struct {
	batches     []batch
	ids         []string // batch ids by index
	index       map[string]int32
	phantoms    []string
	trees       []tree
	orgs        []org
	suppliers   []supplier
	projects    []project
	issuances   []issuance // oldest first
	retirements []retirement
	deliveries  []string

	orgIndex map[string]int16
	splIndex map[string]int8
	prjIndex map[string]int8
	issIndex map[string]int16
	retIndex map[string]int32
	dlvIndex map[string]int32 // delivery id → index into deliveries

	retBatches       [][]int32 // by retirement: its batches in index order
	dlvBatches       [][]int32 // by delivery: the batches delivered (not their halves), in index order
	orgBatches       [][]int32 // by org: batches it owns or is the beneficiary of, newest issued first
	issuancesNewest  []int16   // GET /issuances order
	projectsByName   []int8    // GET /projects order
	supplierOrgCount int
	buyers           []int16 // the organisations that buy, transfer and retire (changes.go draws from them)

	fixtures Fixtures
}

func (d *dataset) refID(r ref) *string {
	switch {
	case r == noRef:
		return nil
	case r < noRef:
		return &d.phantoms[r.phantom()]
	}
	return &d.ids[r]
}

func (d *dataset) batchProject(b *batch) *project {
	return &d.projects[d.issuances[b.issuance].project]
}

func (d *dataset) treeProject(b *batch) *project {
	return &d.projects[d.trees[b.tree].project]
}

func formatTime(us int64) string {
	return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

func formatDate(us int64) string {
	return time.UnixMicro(us).UTC().Format(time.DateOnly)
}

// issuedAt is the batch's issued_at: its tree's issuance's, even for a batch planted with
// another issuance_id.
func (d *dataset) issuedAt(b int32) int64 {
	return d.issuances[d.trees[d.batches[b].tree].issuance].issuedAt
}
