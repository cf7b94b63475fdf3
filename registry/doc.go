// Package registry is the Isometric Registry API v0's vocabulary: the wire types its answers
// decode into (types.go: credit batches with credit_kgs as int64, issuances, retirements,
// pages), its errors (errors.go: the sentinel kinds every layer matches), ids (ids.go), serial
// number parsing (serial.go) and what a client reports of its requests (observe.go).
//
// The HTTP client that speaks to the registry is registry/isometric; what the explorer works
// out from its answers (the walk, the tree, the audit, reports and the serial index) is
// registry/lineage; the batch cache is registry/cache; the built-in demo registry is
// registry/demo. This package imports none of them, and knows nothing of HTTP handlers or HTML.
package registry
