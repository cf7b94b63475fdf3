package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/lineage-explorer/explorer/registry"
)

// errKind is the one classification of an error that every answer reads: the HTML error page
// (errorPage), the JSON error (failJSON), the home page's registry notice (registryState),
// /readyz (readyz) and the walk metrics. A new kind of failure is added here, once.
type errKind int

// The kinds, in the order classify tests for them.
const (
	kindInternal        errKind = iota // a fault of ours
	kindNoRoute                        // no page at this address
	kindMethod                         // a method other than GET or HEAD
	kindUnauthenticated                // no identity arrived from the SSO proxy
	kindForbidden                      // the wrong path in, or a user not allowed
	kindInvalid                        // a malformed id, serial or parameter: nothing was sent upstream
	kindNotFound                       // the registry has no such thing
	kindCredentials                    // the registry rejected the configured credentials
	kindTimeout                        // the registry did not answer in time
	kindThrottled                      // the registry kept answering 429
	kindUnavailable                    // the registry kept failing (5xx, refused connections)
	kindIncomplete                     // a listing of the registry never ended, so an index of it is incomplete
)

// errClass is what an errKind means to each kind of answer.
type errClass struct {
	status int    // the HTTP status
	code   string // the JSON error's stable code
	// retry says whether trying again later may help (the JSON error's "retry").
	retry bool
	// reason is why the registry is not usable, in our own words, for /readyz; "" for kinds
	// that are not about the registry.
	reason string
}

var errClasses = map[errKind]errClass{
	kindInternal:        {status: http.StatusInternalServerError, code: "internal", retry: true},
	kindNoRoute:         {status: http.StatusNotFound, code: "not_found"},
	kindMethod:          {status: http.StatusMethodNotAllowed, code: "method_not_allowed"},
	kindUnauthenticated: {status: http.StatusUnauthorized, code: "unauthenticated"},
	kindForbidden:       {status: http.StatusForbidden, code: "forbidden"},
	kindInvalid:         {status: http.StatusBadRequest, code: "invalid"},
	kindNotFound:        {status: http.StatusNotFound, code: "not_found"},
	kindCredentials:     {status: http.StatusBadGateway, code: "credentials_rejected", reason: "the registry rejected the configured credentials"},
	kindTimeout:         {status: http.StatusGatewayTimeout, code: "timeout", retry: true, reason: "the registry did not answer in time"},
	kindThrottled:       {status: http.StatusBadGateway, code: "throttled", retry: true, reason: "the registry is throttling requests"},
	kindUnavailable:     {status: http.StatusBadGateway, code: "unavailable", retry: true, reason: "the registry is unavailable"},
	kindIncomplete:      {status: http.StatusBadGateway, code: "index_incomplete", retry: true, reason: "the registry's listing of issuances never ends"},
}

// classify is the kind of err (PRODUCT.md, "Behaviour on bad input and faults").
func classify(err error) errKind {
	var apiErr *registry.APIError
	switch {
	case errors.Is(err, errRouteNotFound):
		return kindNoRoute
	case errors.Is(err, errMethodNotAllowed):
		return kindMethod
	case errors.Is(err, errUnauthenticated):
		return kindUnauthenticated
	case errors.Is(err, errForbidden):
		return kindForbidden
	case errors.Is(err, registry.ErrInvalid):
		return kindInvalid
	case errors.Is(err, registry.ErrNotFound):
		return kindNotFound
	case errors.Is(err, registry.ErrCredentials):
		return kindCredentials
	case errors.As(err, &apiErr) && apiErr.Timeout, errors.Is(err, context.DeadlineExceeded):
		return kindTimeout
	case errors.Is(err, registry.ErrThrottled):
		return kindThrottled
	case errors.Is(err, registry.ErrUnavailable):
		return kindUnavailable
	case errors.Is(err, registry.ErrIncomplete):
		return kindIncomplete
	}
	return kindInternal
}

// class is classify's answer with what it means.
func class(err error) (errKind, errClass) {
	k := classify(err)
	return k, errClasses[k]
}

// statusFor is the HTTP status of err.
func statusFor(err error) int {
	_, c := class(err)
	return c.status
}
