package registry

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the registry package. Every error the client returns wraps exactly one of
// them, so callers map them to HTTP statuses with errors.Is.
var (
	// ErrNotFound: the upstream answered 404 for the requested object.
	ErrNotFound = errors.New("not found in the registry")
	// ErrInvalid: the request was rejected as malformed, by the upstream (422) or locally (an id
	// that cannot be valid is never sent).
	ErrInvalid = errors.New("invalid request")
	// ErrCredentials: the upstream rejected the configured access token or client secret (401/403).
	ErrCredentials = errors.New("the configured registry credentials were rejected")
	// ErrThrottled: the upstream kept answering 429 after every retry.
	ErrThrottled = errors.New("the registry is throttling requests")
	// ErrUnavailable: 5xx, a timeout, a transport failure or a body that is not the JSON expected
	// (a proxy's HTML page, say), after every retry.
	ErrUnavailable = errors.New("the registry is unavailable")
	// ErrIncomplete: a paginated listing of the registry never ended (a page cursor came back,
	// or a page brought nothing new), so what was listed may not be all there is.
	ErrIncomplete = errors.New("the registry's listing never ended")
)

// APIError describes one failed upstream call. Kind is one of the sentinel errors above, and
// errors.Is(err, Kind) holds. Message is the upstream's own explanation when it gave one (422
// detail), cut to a safe length. No field ever holds the access token or the client secret.
type APIError struct {
	Kind     error  // one of ErrNotFound, ErrInvalid, ErrCredentials, ErrThrottled, ErrUnavailable
	Endpoint string // the route template, e.g. "/credit_batches/{id}": what metrics and logs group by
	Path     string // the path called, ids in place, e.g. "/credit_batches/ctb_…" ("" if unknown)
	Status   int    // HTTP status, 0 for transport failures
	Message  string // upstream detail or transport summary; never a secret
	Attempts int    // how many times the request was sent
	Timeout  bool   // the last attempt timed out (a gateway would answer 504)

	RetryAfter time.Duration // what the last answer's Retry-After asked for (0 when it asked nothing)
}

// Error reads "GET /credit_batches/ctb_…: not found (HTTP 404)": the call as it was made, so
// that a technical detail on a page names the batch rather than the route's template.
func (e *APIError) Error() string {
	call := e.Path
	if call == "" {
		call = e.Endpoint
	}
	s := fmt.Sprintf("GET %s: %v", call, e.Kind)
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	return s
}

// Unwrap returns Kind so that errors.Is(err, ErrNotFound) and friends work.
func (e *APIError) Unwrap() error { return e.Kind }
