package demo

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"time"
)

// The generator draws from one PCG stream with a fixed seed and visits everything in a fixed
// order, so the dataset is identical on every run.

const (
	issuanceCount    = 60
	deepChainSplits  = 320
	wideNodes        = 3001 // odd: every split adds two batches
	hugeNodes        = 30001
	wideLeafDepth    = 10
	bigKgLeft        = 9_007_199_254_740_993 // 2^53 + 1: the first integer float64 cannot hold
	bigKgRight       = 123_456_789
	plantedIssuance  = 44
	fixtureIssuance  = 48
	deepIssuance     = 20
	wideIssuance     = 28
	hugeIssuance     = 33
	allFinalIssuance = 38
	hostileIssuance  = 40
	bigKgIssuance    = 42
)

const (
	hour = int64(time.Hour / time.Microsecond)
	day  = 24 * hour
)

// datasetNow is the dataset's present: nothing happens after it.
var datasetNow = time.Date(2026, 5, 15, 9, 0, 0, 0, time.UTC).UnixMicro()

type gen struct {
	d        *dataset
	rng      *rand.Rand
	counters map[string]uint64
	seen     map[string]struct{}

	bufferOrg, northwind, hostileOrg, markupBeneficiary int16
	buyers, beneficiaries                               []int16

	retirementsOf map[int16][]int32
	deliveryOf    map[[2]int]int32
}

func build() *dataset {
	g := &gen{
		d: &dataset{
			index:    make(map[string]int32, 40000),
			orgIndex: map[string]int16{},
			splIndex: map[string]int8{},
			prjIndex: map[string]int8{},
			issIndex: map[string]int16{},
			retIndex: map[string]int32{},
		},
		rng:           rand.New(rand.NewPCG(0x1503e7_2026, 0x5eed_0f_de_0)),
		counters:      map[string]uint64{},
		seen:          map[string]struct{}{},
		retirementsOf: map[int16][]int32{},
		deliveryOf:    map[[2]int]int32{},
	}
	g.d.batches = make([]batch, 0, 40000)
	g.d.ids = make([]string, 0, 40000)
	g.catalog()
	g.makeIssuances()
	for i := range g.d.issuances {
		g.populate(int16(i))
	}
	g.bigKg() // last, so that its huge range does not push every later root of its project
	g.finish()
	return g.d
}

func (g *gen) newID(prefix string) string {
	for {
		id := idFor(prefix, g.counters[prefix])
		g.counters[prefix]++
		if _, dup := g.seen[id]; !dup {
			g.seen[id] = struct{}{}
			return id
		}
	}
}

// between returns a duration in [lo, hi) as Unix microseconds.
func (g *gen) between(lo, hi time.Duration) int64 {
	l, h := int64(lo/time.Microsecond), int64(hi/time.Microsecond)
	return l + g.rng.Int64N(h-l)
}

func str(s string) *string { return &s }

func (g *gen) addOrg(name string, domain *string) int16 {
	d := g.d
	o := org{id: g.newID("org"), name: name, domain: domain}
	d.orgs = append(d.orgs, o)
	d.orgIndex[o.id] = int16(len(d.orgs) - 1)
	return int16(len(d.orgs) - 1)
}

// catalog makes the organisations, suppliers and projects. It is long because it is a table
// of them, one line each.
func (g *gen) catalog() {
	d := g.d
	type sup struct {
		name             string
		domain           *string
		short, long      *string
		loc              *location
		supplierOrgIndex int16
	}
	sups := []sup{
		{name: "Deepstore Removals", domain: str("deepstore.example"),
			short: str("Bio-oil and biomass injected into deep geological formations."),
			long:  str("Deepstore converts agricultural residues into bio-oil and biomass slurries and injects them into depleted wells, where the carbon stays for over 1,000 years."),
			loc:   &location{"USA", "United States", str("Elko County, Nevada"), 40.83, -115.76}},
		{name: "Carbonfield Biochar Ltd", domain: str("carbonfield.example"),
			short: str("Bio-oil storage from forestry residues."),
			loc:   &location{"GBR", "United Kingdom", nil, 53.38, -1.47}},
		{name: "Aerolith Air Capture", domain: nil,
			short: nil, long: nil, loc: nil},
		{name: "Basalt & Bloom", domain: str("basaltbloom.example"),
			short: str("Enhanced rock weathering on smallholder farms."),
			long:  str("Basalt & Bloom spreads crushed basalt on tea and maize fields; the rock weathers and the carbon ends up as bicarbonate in the ocean."),
			loc:   &location{"KEN", "Kenya", str("Kericho County"), -0.37, 35.28}},
	}
	for _, s := range sups {
		o := g.addOrg(s.name, s.domain)
		d.suppliers = append(d.suppliers, supplier{id: g.newID("spl"), org: o,
			shortDescription: s.short, longDescription: s.long, location: s.loc})
		d.splIndex[d.suppliers[len(d.suppliers)-1].id] = int8(len(d.suppliers) - 1)
	}
	d.supplierOrgCount = len(d.orgs)
	g.bufferOrg = g.addOrg("Isometric Buffer Pool", str("isometric.com"))

	buyerNames := []struct {
		name   string
		domain *string
	}{
		{"Northwind Analytics", str("northwind.example")},
		{"Contoso Air", str("contoso.example")},
		{"Fabrikam Freight", str("fabrikam.example")},
		{"Tailspin Toys", nil},
		{"Wide World Importers", str("wideworldimporters.example")},
		{"Adventure Works Cycles", str("adventure-works.example")},
		{"Litware Climate Desk", str("litware.example")},
		{"Proseware Capital", str("proseware.example")},
		{"Woodgrove Bank", str("woodgrovebank.example")},
		{"Margie's Travel", str("margiestravel.example")},
		{"Lucerne Publishing", nil},
		{"Fourth Coffee", str("fourthcoffee.example")},
		{"Alpine Ski House", str("alpineskihouse.example")},
		{"Coho Winery", str("cohowinery.example")},
		{"Trey Research", str("treyresearch.example")},
		{"Blue Yonder Airlines", str("blueyonderairlines.example")},
	}
	for _, b := range buyerNames {
		g.buyers = append(g.buyers, g.addOrg(b.name, b.domain))
	}
	g.northwind = g.buyers[0]
	g.hostileOrg = g.addOrg(`<script>alert("owner")</script> & <b>Sons</b>`, str("hostile.example"))
	for _, b := range []struct {
		name   string
		domain *string
	}{
		{"City of Ashford Schools", nil},
		{"Ocean Trust Foundation", str("oceantrust.example")},
		{"Meridian Hospital Trust", str("meridian-health.example")},
		{"Café Übersee GmbH", str("cafe-uebersee.example")},
	} {
		g.beneficiaries = append(g.beneficiaries, g.addOrg(b.name, b.domain))
	}
	g.markupBeneficiary = g.addOrg(`<img src=x onerror=alert("beneficiary")> Green & "Clean" Fund`, nil)

	projects := []project{
		{name: "Deepstore Vault Nevada", shortCode: "01P4", pathwayCode: "VAULT", pathway: "biomass_carbon_removal_and_storage",
			country: "USA", countryName: "United States", protocolSlug: "biomass-geological-storage", process: "biomass_injection",
			supplier: 0, ccp: true, validator: str("Ruby Canyon Environmental"), verifier: str("Ruby Canyon Environmental"),
			creditStart: str("2023-06-01"), creditEnd: str("2028-05-31"),
			location: &location{"USA", "United States", str("Elko County, Nevada"), 40.83, -115.76}},
		{name: "Carbonfield Bio-oil Storage", shortCode: "F5X7", pathwayCode: "BSTORE", pathway: "biomass_carbon_removal_and_storage",
			country: "GBR", countryName: "United Kingdom", protocolSlug: "bio-oil-geological-storage", process: "bio_oil_injection",
			supplier: 1, ccp: true, validator: str("SCS Global Services"), verifier: nil,
			creditStart: str("2023-01-01"), creditEnd: nil,
			location: &location{"GBR", "United Kingdom", nil, 53.38, -1.47}},
		{name: "Aerolith Hellisheiði DAC", shortCode: "K9M2", pathwayCode: "DAC", pathway: "direct_air_capture",
			country: "ISL", countryName: "Iceland", protocolSlug: "direct-air-capture", process: "dac_mineral_storage",
			supplier: 2, ccp: false, validator: nil, verifier: nil,
			location: &location{"ISL", "Iceland", str("Hellisheiði geothermal field"), 64.04, -21.40}},
		{name: "Basalt & Bloom Rift Valley Weathering", shortCode: "7Q0K", pathwayCode: "EW", pathway: "enhanced_weathering",
			country: "KEN", countryName: "Kenya", protocolSlug: "enhanced-weathering-agriculture", process: "erw_cropland",
			supplier: 3, ccp: false, validator: str("Aster Global"), verifier: str("Aster Global"),
			creditStart: str("2024-01-01"), creditEnd: str("2033-12-31"), location: nil},
		{name: "Deepstore Basin Mineralization", shortCode: "0M3X", pathwayCode: "MIN", pathway: "carbon_mineralization",
			country: "CAN", countryName: "Canada", protocolSlug: "carbon-mineralization-in-situ", process: "in_situ_mineralization",
			supplier: 0, ccp: true, validator: str("Ruby Canyon Environmental"), verifier: nil,
			location: &location{"CAN", "Canada", str("Thompson-Nicola, British Columbia"), 50.67, -120.33}},
	}
	for i := range projects {
		p := &projects[i]
		p.id = g.newID("prj")
		p.status = "validated"
		p.nextSerial = 1_000_000 + g.rng.Int64N(40_000_000)
		d.prjIndex[p.id] = int8(i)
	}
	d.projects = projects
}

func (g *gen) makeIssuances() {
	d := g.d
	start := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC).UnixMicro()
	for i := 0; i < issuanceCount; i++ {
		at := start + int64(i)*13*day + g.between(0, 72*time.Hour)
		p := int8(i % len(d.projects))
		if i >= len(d.projects) {
			p = int8(g.rng.IntN(len(d.projects)))
		}
		end := midnight(at - g.between(10*24*time.Hour, 40*24*time.Hour))
		iss := issuance{
			id:          g.newID("iss"),
			project:     p,
			issuedAt:    at,
			periodEnd:   end,
			periodStart: midnight(end - g.between(60*24*time.Hour, 120*24*time.Hour)),
		}
		d.issuances = append(d.issuances, iss)
		d.issIndex[iss.id] = int16(i)
	}
}

func midnight(us int64) int64 { return us - ((us%day)+day)%day }

// populate creates the roots of one issuance and what happened to them since.
func (g *gen) populate(i int16) {
	d := g.d
	t0 := d.issuances[i].issuedAt
	switch i {
	case deepIssuance:
		g.deepChain(i, t0)
	case wideIssuance:
		root := g.newRoot(i, false, 45_000_000, true)
		g.grow(root, wideNodes, 0.38, 0.62, t0, 72*time.Hour)
		d.fixtures.WideRoot, d.fixtures.WideNodeCount = d.ids[root], wideNodes
	case hugeIssuance:
		root := g.newRoot(i, false, 600_000_000, true)
		g.grow(root, hugeNodes, 0.3, 0.7, t0, 24*time.Hour)
		d.fixtures.HugeRoot, d.fixtures.HugeNodeCount = d.ids[root], hugeNodes
	case allFinalIssuance:
		g.allFinal(i, t0)
	case hostileIssuance:
		g.hostile(i, t0)
	case plantedIssuance:
		g.planted(i, t0)
	}
	nSupplier := 3 + g.rng.IntN(22)
	nBuffer := 1 + nSupplier/6 + g.rng.IntN(2)
	switch i {
	case fixtureIssuance:
		nSupplier, nBuffer = 12, 4
	case plantedIssuance:
		nSupplier, nBuffer = 2, 0
	}
	for k := 0; k < nSupplier; k++ {
		root := g.newRoot(i, false, 1_000+g.rng.Int64N(59_000), true)
		g.randomHistory(root, t0)
	}
	for k := 0; k < nBuffer; k++ {
		root := g.newRoot(i, true, 200+g.rng.Int64N(7_800), true)
		g.bufferHistory(root, t0)
	}
}

// newRoot creates a root batch of issuance i with the next free range of its project. listed
// roots are part of the issuance's GET /issuances/{id}/credit_batches.
func (g *gen) newRoot(i int16, buffer bool, kg int64, listed bool) int32 {
	d := g.d
	iss := &d.issuances[i]
	p := &d.projects[iss.project]
	owner := d.suppliers[p.supplier].org
	if buffer {
		owner = g.bufferOrg
	}
	seq := iss.periodStart + g.between(0, time.Duration(iss.periodEnd-iss.periodStart+day)*time.Microsecond)
	d.trees = append(d.trees, tree{
		root: int32(len(d.batches)), issuance: i, project: iss.project, buffer: buffer,
		removal: g.newID("rmv"), sequesteredOn: midnight(seq),
	})
	first := p.nextSerial
	p.nextSerial += kg
	if g.rng.IntN(4) != 0 {
		p.nextSerial += g.rng.Int64N(3_000)
	}
	b := g.addBatch(batch{kg: kg, first: first, parent: noRef, left: noRef, right: noRef,
		tree: int32(len(d.trees) - 1), delivery: -1, retirement: -1, issuance: i, owner: owner})
	if listed {
		if buffer {
			iss.bufferRoots = append(iss.bufferRoots, b)
			iss.bufferKg += kg
		} else {
			iss.supplierRoots = append(iss.supplierRoots, b)
			iss.supplierKg += kg
		}
	}
	return b
}

func (g *gen) addBatch(b batch) int32 {
	d := g.d
	id := g.newID("ctb")
	d.batches = append(d.batches, b)
	d.ids = append(d.ids, id)
	d.index[id] = int32(len(d.batches) - 1)
	return int32(len(d.batches) - 1)
}

// child adds a batch under p with p's owner and delivery, without linking it from p.
func (g *gen) child(p int32, kg, first int64) int32 {
	P := g.d.batches[p]
	return g.addBatch(batch{kg: kg, first: first, deliveredAt: P.deliveredAt, parent: ref(p), left: noRef, right: noRef,
		tree: P.tree, delivery: P.delivery, retirement: -1, issuance: P.issuance, owner: P.owner})
}

func (g *gen) link(p int32, l, r ref) {
	b := &g.d.batches[p]
	b.status, b.left, b.right = statusSplit, l, r
}

// split is the registry's split: the left child takes the first leftKg units of the range and
// the right child the rest, sharing the boundary.
func (g *gen) split(p int32, leftKg int64) (l, r int32) {
	P := g.d.batches[p]
	l = g.child(p, leftKg, P.first)
	r = g.child(p, P.kg-leftKg, P.first+leftKg)
	g.link(p, ref(l), ref(r))
	return l, r
}

var retirementNotes = []string{
	"FY2025 scope 3 business travel",
	"Q4 customer programme: one credit per order shipped",
	"Retired on behalf of our customers' freight",
	"Net-zero commitment, tranche 3",
	"Residual emissions 2025 (market-based)",
}

var purposes = []string{"corporate_targets", "public_environmental_claims", "insetting", "regulatory_requirement"}

// finish derives what depends on the whole dataset: totals, list orders, lookups and the
// fixtures that are picked rather than built.
func (g *gen) finish() {
	d := g.d
	d.retBatches = make([][]int32, len(d.retirements))
	d.orgBatches = make([][]int32, len(d.orgs))
	d.dlvBatches = make([][]int32, len(d.deliveries))
	d.dlvIndex = make(map[string]int32, len(d.deliveries))
	for i, id := range d.deliveries {
		d.dlvIndex[id] = int32(i)
	}
	for i := range d.batches {
		b := &d.batches[i]
		b.crd = b.status != statusSplit && splitmix(uint64(i)^0xc0ffee)%10 < 6
		d.orgBatches[b.owner] = append(d.orgBatches[b.owner], int32(i))
		// The halves of a delivered batch carry its delivery_id, but the delivery's list holds
		// the batches delivered, as upstream's does ("the original batches in the delivery").
		if b.delivery >= 0 && (b.parent < 0 || d.batches[b.parent].delivery != b.delivery) {
			d.dlvBatches[b.delivery] = append(d.dlvBatches[b.delivery], int32(i))
		}
		if b.retirement < 0 {
			continue
		}
		r := &d.retirements[b.retirement]
		r.kg += b.kg
		d.retBatches[b.retirement] = append(d.retBatches[b.retirement], int32(i))
		if r.beneficiary != b.owner {
			d.orgBatches[r.beneficiary] = append(d.orgBatches[r.beneficiary], int32(i))
		}
		tr := &d.trees[b.tree]
		p := &d.projects[tr.project]
		p.retiredKg += b.kg
		if tr.buffer {
			p.retiredBufferKg += b.kg
		}
	}
	for _, iss := range d.issuances {
		p := &d.projects[iss.project]
		p.issuedKg += iss.supplierKg + iss.bufferKg
		p.issuedBufferKg += iss.bufferKg
	}
	for _, list := range d.orgBatches {
		slices.SortFunc(list, func(a, b int32) int {
			ta, tb := d.issuedAt(a), d.issuedAt(b)
			return cmp.Or(cmp.Compare(tb, ta), cmp.Compare(a, b))
		})
	}
	for i := len(d.issuances) - 1; i >= 0; i-- {
		d.issuancesNewest = append(d.issuancesNewest, int16(i))
	}
	for i := range d.projects {
		d.projectsByName = append(d.projectsByName, int8(i))
	}
	slices.SortFunc(d.projectsByName, func(a, b int8) int { return cmp.Compare(d.projects[a].name, d.projects[b].name) })

	d.buyers = g.buyers
	f := &d.fixtures
	f.Issuance = d.issuances[fixtureIssuance].id
	f.LastPageIssuance = d.issuances[0].id
	f.Organisation = d.orgs[g.northwind].id
	f.UnbalancedOrganisation, f.UnbalancedOrganisationKg = d.orgs[g.buyers[1]].id, 1_000
	f.Project = d.projects[0].id
	f.Supplier = d.suppliers[d.projects[0].supplier].id
	f.WideLeafDeep = d.ids[g.leafAtDepth(d.index[f.WideRoot], wideLeafDepth)]
	f.Retirement = d.retirements[g.widestRetirement()].id
	f.Delivery = d.deliveries[d.batches[d.index[f.DeepChainRoot]].delivery]
}

func (g *gen) leafAtDepth(root int32, depth int) int32 {
	d := g.d
	var found int32 = -1
	var walk func(b int32, k int)
	walk = func(b int32, k int) {
		B := &d.batches[b]
		if found >= 0 || k > depth {
			return
		}
		if B.left == noRef && B.right == noRef {
			if k == depth {
				found = b
			}
			return
		}
		walk(int32(B.left), k+1)
		walk(int32(B.right), k+1)
	}
	walk(root, 0)
	if found < 0 {
		panic("demo: the wide tree has no leaf at the expected depth")
	}
	return found
}

// widestRetirement is the buyer's retirement (not a buffer-pool cancellation, nothing planted)
// spanning the most issuances, then trees.
func (g *gen) widestRetirement() int32 {
	d := g.d
	best, bestIss, bestTrees := int32(-1), 0, 0
	for ri, list := range d.retBatches {
		if d.retirements[ri].owner == g.bufferOrg {
			continue
		}
		issuances, trees := map[int16]bool{}, map[int32]bool{}
		for _, b := range list {
			if d.trees[d.batches[b].tree].planted {
				issuances = nil
				break
			}
			issuances[d.batches[b].issuance] = true
			trees[d.batches[b].tree] = true
		}
		if len(issuances) > bestIss || len(issuances) == bestIss && len(trees) > bestTrees {
			best, bestIss, bestTrees = int32(ri), len(issuances), len(trees)
		}
	}
	return best
}
