package demo

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type handler func(r *Registry, w http.ResponseWriter, req *http.Request, params []string)

// routes lists the upstream's GET routes the demo serves; "*" is a path parameter.
var routes = []struct {
	pattern []string
	h       handler
}{
	{[]string{"credit_batches", "*"}, (*Registry).creditBatch},
	{[]string{"issuances"}, (*Registry).issuanceList},
	{[]string{"issuances", "*"}, (*Registry).issuance},
	{[]string{"issuances", "*", "credit_batches"}, (*Registry).issuanceCreditBatches},
	{[]string{"retirements", "*"}, (*Registry).retirement},
	{[]string{"retirements", "*", "credit_batches"}, (*Registry).retirementCreditBatches},
	{[]string{"deliveries", "*", "credit_batches"}, (*Registry).deliveryCreditBatches},
	{[]string{"organisations", "*", "credit_batches"}, (*Registry).organisationCreditBatches},
	{[]string{"organisations", "*"}, (*Registry).organisation},
	{[]string{"organisations", "*", "credit_balance"}, (*Registry).organisationCreditBalance},
	{[]string{"projects"}, (*Registry).projectList},
	{[]string{"projects", "*"}, (*Registry).project},
	{[]string{"suppliers", "*"}, (*Registry).supplier},
	{[]string{"suppliers", "*", "issuances"}, (*Registry).supplierIssuances},
}

func match(path string) (handler, []string, bool) {
	if !strings.HasPrefix(path, "/") {
		return nil, nil, false
	}
	segs := strings.Split(path[1:], "/")
next:
	for _, rt := range routes {
		if len(rt.pattern) != len(segs) {
			continue
		}
		var params []string
		for i, p := range rt.pattern {
			switch {
			case segs[i] == "":
				continue next
			case p == "*":
				params = append(params, segs[i])
			case p != segs[i]:
				continue next
			}
		}
		return rt.h, params, true
	}
	return nil, nil, false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshal(v)
	if err != nil {
		http.Error(w, "demo registry: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func notFound(w http.ResponseWriter) { writeJSON(w, http.StatusNotFound, detail{"Not found"}) }

func unprocessable(w http.ResponseWriter, errs ...validationError) {
	writeJSON(w, http.StatusUnprocessableEntity, validationDetail{errs})
}

func badID(w http.ResponseWriter, loc []string, prefix string) {
	unprocessable(w, validationError{Loc: loc, Type: "value_error",
		Msg: "Value error, expected an id of the form " + prefix + "_ followed by 16 to 33 letters or digits, 20 to 37 characters in all"})
}

// pathID validates the {id} parameter; it answers 422 and returns false when malformed.
func pathID(w http.ResponseWriter, prefix, id string) bool {
	if !validID(prefix, id) {
		badID(w, []string{"path", "id"}, prefix)
		return false
	}
	return true
}

// lookup resolves the {id} parameter in one of the dataset's indexes: it answers 422 for a
// malformed id and 404 for an unknown one, and returns false then.
func lookup[I any](w http.ResponseWriter, prefix, id string, index map[string]I) (I, bool) {
	var zero I
	if !pathID(w, prefix, id) {
		return zero, false
	}
	i, ok := index[id]
	if !ok {
		notFound(w)
	}
	return i, ok
}

// writePage answers one Relay page of order (indexes into the dataset), each node rendered by wire.
func writePage[I, T any](w http.ResponseWriter, req *http.Request, loop bool, order []I, wire func(I) T) {
	pg, ok := parsePage(w, req.URL.Query(), len(order))
	if !ok {
		return
	}
	lo, hi, info := pg.window(len(order))
	if loop {
		info = pg.looping(len(order), info)
	}
	nodes := make([]T, 0, hi-lo)
	for _, i := range order[lo:hi] {
		nodes = append(nodes, wire(i))
	}
	writeJSON(w, http.StatusOK, wirePage[T]{Nodes: nodes, PageInfo: info, TotalCount: len(order)})
}

func (r *Registry) creditBatch(w http.ResponseWriter, req *http.Request, p []string) {
	i, ok := lookup(w, "ctb", p[0], r.d.index)
	if !ok {
		return
	}
	r.fetches[i].Add(1)
	writeJSON(w, http.StatusOK, r.d.wireBatch(i))
}

func (r *Registry) issuance(w http.ResponseWriter, req *http.Request, p []string) {
	i, ok := lookup(w, "iss", p[0], r.d.issIndex)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, r.d.wireIssuance(i))
}

func (r *Registry) issuanceCreditBatches(w http.ResponseWriter, req *http.Request, p []string) {
	i, ok := lookup(w, "iss", p[0], r.d.issIndex)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, r.d.wireIssuanceCreditBatches(i))
}

func (r *Registry) issuanceList(w http.ResponseWriter, req *http.Request, _ []string) {
	writePage(w, req, r.snapshot().LoopingCursors, r.d.issuancesNewest, r.d.wireIssuance)
}

func (r *Registry) retirement(w http.ResponseWriter, req *http.Request, p []string) {
	i, ok := lookup(w, "ret", p[0], r.d.retIndex)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, r.d.wireRetirement(i))
}

func (r *Registry) retirementCreditBatches(w http.ResponseWriter, req *http.Request, p []string) {
	i, ok := lookup(w, "ret", p[0], r.d.retIndex)
	if !ok {
		return
	}
	list := r.d.retBatches[i]
	writeJSON(w, http.StatusOK, wireList[wireBatch]{Nodes: r.d.wireBatches(list), TotalCount: len(list)})
}

// deliveryCreditBatches mirrors GET /deliveries/{id}/credit_batches: the batches delivered,
// whole list (the route has no pagination), split ones included.
func (r *Registry) deliveryCreditBatches(w http.ResponseWriter, req *http.Request, p []string) {
	i, ok := lookup(w, "dlv", p[0], r.d.dlvIndex)
	if !ok {
		return
	}
	list := r.d.dlvBatches[i]
	writeJSON(w, http.StatusOK, wireList[wireBatch]{Nodes: r.d.wireBatches(list), TotalCount: len(list)})
}

func (r *Registry) project(w http.ResponseWriter, req *http.Request, p []string) {
	i, ok := lookup(w, "prj", p[0], r.d.prjIndex)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, r.d.wireProject(i))
}

func (r *Registry) projectList(w http.ResponseWriter, req *http.Request, _ []string) {
	writePage(w, req, r.snapshot().LoopingCursors, r.d.projectsByName, r.d.wireProject)
}

func (r *Registry) supplier(w http.ResponseWriter, req *http.Request, p []string) {
	i, ok := lookup(w, "spl", p[0], r.d.splIndex)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, r.d.wireSupplier(i))
}

// organisationCreditBatches mirrors GET /organisations/{id}/credit_batches: the batches the
// organisation owns or is the beneficiary of, split ones excluded unless asked for, filters
// intersected, sorted by issued_at (newest first by default).
func (r *Registry) organisationCreditBatches(w http.ResponseWriter, req *http.Request, p []string) {
	if !pathID(w, "org", p[0]) {
		return
	}
	q := req.URL.Query()
	f, errs := parseOrgBatchFilter(q)
	if len(errs) > 0 {
		unprocessable(w, errs...)
		return
	}
	oi, ok := r.d.orgIndex[p[0]]
	if !ok {
		notFound(w)
		return
	}
	d := r.d
	var list []int32
	for _, i := range d.orgBatches[oi] {
		if f.keeps(d, i) {
			list = append(list, i)
		}
	}
	if f.asc {
		for a, z := 0, len(list)-1; a < z; a, z = a+1, z-1 {
			list[a], list[z] = list[z], list[a]
		}
	}
	pg, ok := parsePage(w, q, len(list))
	if !ok {
		return
	}
	lo, hi, info := pg.window(len(list))
	if r.snapshot().LoopingCursors {
		info = pg.looping(len(list), info)
	}
	writeJSON(w, http.StatusOK, wirePage[wireBatch]{Nodes: d.wireBatches(list[lo:hi]), PageInfo: info, TotalCount: len(list)})
}

// orgBatchFilter is the query of GET /organisations/{id}/credit_batches, checked.
type orgBatchFilter struct {
	supplierID, projectID, issuanceID, deliveryID, orderID, retirementID string
	statuses                                                             map[status]bool
	after, before                                                        int64 // issued_after, issued_before, in µs
	hasAfter, hasBefore                                                  bool
	asc                                                                  bool
}

// parseOrgBatchFilter reads the filters, answering with the validation errors the registry's
// 422 would list.
func parseOrgBatchFilter(q url.Values) (orgBatchFilter, []validationError) {
	var errs []validationError
	idFilter := func(name, prefix string) string {
		v := q.Get(name)
		if v != "" && !validID(prefix, v) {
			errs = append(errs, validationError{Loc: []string{"query", name}, Type: "value_error",
				Msg: "Value error, expected an id of the form " + prefix + "_ followed by 16 to 33 letters or digits"})
		}
		return v
	}
	f := orgBatchFilter{supplierID: idFilter("supplier_id", "spl"), projectID: idFilter("project_id", "prj"),
		issuanceID: idFilter("issuance_id", "iss"), deliveryID: idFilter("delivery_id", "dlv"),
		orderID: idFilter("order_id", "ord"), retirementID: idFilter("retirement_id", "ret"),
		statuses: map[status]bool{statusActive: true, statusRetired: true}}
	if vals := q["status"]; len(vals) > 0 {
		f.statuses = map[status]bool{}
		for _, v := range vals {
			switch v {
			case "active":
				f.statuses[statusActive] = true
			case "split":
				f.statuses[statusSplit] = true
			case "retired":
				f.statuses[statusRetired] = true
			default:
				errs = append(errs, validationError{Loc: []string{"query", "status"}, Type: "enum",
					Msg: "Input should be 'active', 'split' or 'retired'"})
			}
		}
	}
	timeFilter := func(name string) (int64, bool) {
		v := q.Get(name)
		if v == "" {
			return 0, false
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			errs = append(errs, validationError{Loc: []string{"query", name}, Type: "datetime_from_date_parsing",
				Msg: "Input should be a valid datetime with a timezone, like 2021-01-01T00:00:00Z"})
			return 0, false
		}
		return t.UnixMicro(), true
	}
	f.after, f.hasAfter = timeFilter("issued_after")
	f.before, f.hasBefore = timeFilter("issued_before")
	if v := q.Get("sort_field"); v != "" && v != "issued_at" {
		errs = append(errs, validationError{Loc: []string{"query", "sort_field"}, Type: "enum", Msg: "Input should be 'issued_at'"})
	}
	switch v := q.Get("sort_direction"); v {
	case "", "desc":
	case "asc":
		f.asc = true
	default:
		errs = append(errs, validationError{Loc: []string{"query", "sort_direction"}, Type: "enum", Msg: "Input should be 'asc' or 'desc'"})
	}
	return f, errs
}

// keeps reports whether batch i passes every filter.
func (f orgBatchFilter) keeps(d *dataset, i int32) bool {
	b := &d.batches[i]
	if !f.statuses[b.status] || f.orderID != "" {
		return false
	}
	tp := &d.projects[d.trees[b.tree].project]
	at := d.issuedAt(i)
	switch {
	case f.supplierID != "" && d.suppliers[tp.supplier].id != f.supplierID,
		f.projectID != "" && d.batchProject(b).id != f.projectID,
		f.issuanceID != "" && d.issuances[b.issuance].id != f.issuanceID,
		f.deliveryID != "" && (b.delivery < 0 || d.deliveries[b.delivery] != f.deliveryID),
		f.retirementID != "" && (b.retirement < 0 || d.retirements[b.retirement].id != f.retirementID),
		f.hasAfter && at <= f.after,
		f.hasBefore && at >= f.before:
		return false
	}
	return true
}

// page is a Relay request: first/after forward, last/before backward, first=10 by default.
type page struct {
	first, last   int // 0: not given
	after, before int // item positions; -1: not given
}

const cursorPrefix = "demo-cursor:"

// cursors are opaque to clients, as upstream: they encode the item's position in the list.
func cursor(pos int) *string {
	return new(base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(pos))))
}

func parsePage(w http.ResponseWriter, q url.Values, n int) (page, bool) {
	pg := page{after: -1, before: -1}
	var errs []validationError
	count := func(name string) int {
		v := q.Get(name)
		if v == "" {
			return 0
		}
		k, err := strconv.Atoi(v)
		switch {
		case err != nil:
			errs = append(errs, validationError{Loc: []string{"query", name}, Type: "int_parsing",
				Msg: "Input should be a valid integer"})
		case k < 1:
			errs = append(errs, validationError{Loc: []string{"query", name}, Type: "greater_than",
				Msg: "Input should be greater than 0"})
		case k > 50:
			errs = append(errs, validationError{Loc: []string{"query", name}, Type: "less_than_equal",
				Msg: "Input should be less than or equal to 50"})
		}
		return k
	}
	pos := func(name string) int {
		v := q.Get(name)
		if v == "" {
			return -1
		}
		raw, err := base64.RawURLEncoding.DecodeString(v)
		s, found := strings.CutPrefix(string(raw), cursorPrefix)
		k, err2 := strconv.Atoi(s)
		if err != nil || !found || err2 != nil || k < 0 || k >= n {
			errs = append(errs, validationError{Loc: []string{"query", name}, Type: "value_error",
				Msg: "Value error, invalid cursor"})
			return -1
		}
		return k
	}
	pg.first, pg.last = count("first"), count("last")
	pg.after, pg.before = pos("after"), pos("before")
	if len(errs) > 0 {
		unprocessable(w, errs...)
		return pg, false
	}
	if pg.first == 0 && pg.last == 0 {
		pg.first = 10
	}
	return pg, true
}

// window returns the slice [lo, hi) of a list of n items, and its page_info.
func (pg page) window(n int) (lo, hi int, info wirePageInfo) {
	lo, hi = 0, n
	if pg.after >= 0 {
		lo = pg.after + 1
	}
	if pg.before >= 0 {
		hi = pg.before
	}
	hi = max(hi, lo)
	if pg.first > 0 && hi-lo > pg.first {
		hi = lo + pg.first
	}
	if pg.last > 0 && hi-lo > pg.last {
		lo = hi - pg.last
	}
	info = wirePageInfo{HasPreviousPage: lo > 0, HasNextPage: hi < n}
	if hi > lo {
		info.StartCursor, info.EndCursor = cursor(lo), cursor(hi-1)
	}
	return lo, hi, info
}

// looping is info as an upstream whose cursors cycle answers it (Options.LoopingCursors): there
// is always a next page, and the page after the second one ends with the first page's cursor.
func (pg page) looping(n int, info wirePageInfo) wirePageInfo {
	info.HasNextPage = true
	size := max(pg.first, pg.last)
	if second := size - 1; pg.after >= 0 && pg.after != second && second < n {
		info.EndCursor = cursor(second)
	}
	return info
}
