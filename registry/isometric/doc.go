// Package isometric is the client of the Isometric Registry API v0 over HTTP: one Client
// method per endpoint (client.go) and the request machinery under them (request.go: both auth
// headers, retries with jittered exponential backoff honouring Retry-After, a per-attempt
// timeout, one semaphore bounding the process's upstream requests, typed errors, and the
// redaction that keeps the credentials out of whatever the upstream sends back). It returns
// the types of package registry. Only main wires it in; the lineage logic reads it through
// lineage.Source.
package isometric
