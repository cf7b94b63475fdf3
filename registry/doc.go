// Package registry is the door to the Isometric Registry API v0 and nothing else: one method
// of Client per endpoint (client.go), the request machinery under them (request.go: retries,
// backoff, the concurrency bound, typed errors, redaction of the credentials), the wire types
// it decodes (types.go), its errors (errors.go), ids (ids.go) and serial number parsing
// (serial.go).
//
// What the explorer works out from these answers (the walk, the tree, the audit, reports and
// the serial index) lives in registry/lineage; the batch cache in registry/cache; the built-in
// demo registry in registry/demo. This package imports none of them, and knows nothing of HTTP
// handlers or HTML.
package registry
