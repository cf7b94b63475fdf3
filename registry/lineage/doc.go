// Package lineage is what the explorer works out from the registry's answers: the walk of a
// credit batch's split tree (walk.go) into a Tree (tree.go), its audit (audit.go), the JSON
// and CSV exports (export.go), the issuance and retirement reports (issuance.go,
// retirement.go), the serial number index (serialindex.go, serialresolve.go), and the
// background jobs that run walks and reports for the web layer (jobs.go, explorer.go).
//
// It reads the registry only through the small Source interface (source.go), never the
// concrete client, so that every part is tested against a fake in memory as well as against
// the demo registry over HTTP. Explorer is the facade the handlers use.
package lineage
