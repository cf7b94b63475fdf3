package views

import (
	"net/http"
	"strconv"
)

// ErrorPage is the page of a failed request.
type ErrorPage struct {
	Base
	Status  int    // the HTTP status the page is served with
	Heading string // what went wrong, in a few words
	Message string // what it means for the reader
	// Hint tells what to do next, e.g. what a valid id looks like.
	Hint string
	// Example, when set, is shown as a well-formed value next to the hint.
	Example string
	// Detail is a technical summary for a support ticket (our own text or escaped upstream
	// text, never a secret); shown folded.
	Detail string
	// RetryURL, when set, is offered as a retry link.
	RetryURL string
	// LinkURL, when set, is a page that answers what was asked where this one cannot;
	// LinkText says what it is.
	LinkURL, LinkText string
}

// StatusText is the status line shown on the page ("404 Not Found").
func (p ErrorPage) StatusText() string {
	return strconv.Itoa(p.Status) + " " + http.StatusText(p.Status)
}
