package handlers

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry/lineage"
)

// The JSON routes for tools (/api/v1/...) answer the same questions as the pages, with the
// same statuses (statusFor), as JSON: kg as JSON integers and credits as exact decimal strings,
// never a JSON number with a fraction (see registry.Quantity.MarshalJSON). Errors are an
// apiError body rather than a page.

// apiHandler serves one JSON route: it writes its answer on success and returns an error
// otherwise, which api turns into an apiError body with the status statusFor picks.
type apiHandler func(c *gin.Context) error

func (s *server) api(h apiHandler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.failJSON(c, err)
		}
	}
}

// apiError is the body of every JSON error answer.
type apiError struct {
	Status int    `json:"status"`                  // the HTTP status, repeated for tools that lose it
	Code   string `json:"code"`                    // "invalid", "not_found", "credentials_rejected", "throttled", "unavailable", "timeout", "internal"
	Error  string `json:"error"`                   // what went wrong, in words (our text; never a secret)
	What   string `json:"what"`                    // what was looked for: "serial number", "issuance", ...
	Value  string `json:"value"`                   // the id or serial as asked
	Retry  bool   `json:"retry"`                   // whether trying again later may help
	Hint   string `json:"hint,omitempty"`          // what a valid value looks like, for "invalid"
	AsOf   string `json:"indexed_as_of,omitempty"` // for an unknown serial: how fresh the index of issuances was (RFC 3339), "" before the first pass
	// DidYouMean is, for an unknown serial one unit off a batch at one end, that batch.
	DidYouMean *apiSuggestion `json:"did_you_mean,omitempty"`
}

// echoLimit is how many characters of a value asked an error echoes: enough to recognise it,
// while a value of any length does not make an answer of any length.
const echoLimit = 200

// cut is e with the value asked cut to echoLimit characters and "…", in Value and where the
// sentence in Error repeats it; an Error still longer than it can be is cut as well.
func (e apiError) cut() apiError {
	short := cutText(e.Value, echoLimit)
	if short != e.Value {
		e.Error = strings.ReplaceAll(e.Error, e.Value, short)
		e.Value = short
	}
	e.Error = cutText(e.Error, 5*echoLimit)
	return e
}

// cutText is s cut to n characters, with "…" when anything was left out.
func cutText(s string, n int) string {
	i := 0
	for at := range s {
		if i == n {
			return s[:at] + "…"
		}
		i++
	}
	return s
}

// apiSuggestion is the batch an unknown serial number most likely meant.
type apiSuggestion struct {
	BatchID      string `json:"batch_id"`
	SerialNumber string `json:"serial_number"`
	URL          string `json:"url"` // its lineage page
}

// apiPending is the body of a 202 answer: the report asked for is being built; ask again
// (Retry-After says when).
type apiPending struct {
	Status     string `json:"status"` // "pending"
	ID         string `json:"id"`
	Fetched    int64  `json:"fetched"`    // batches and records obtained so far
	Discovered int64  `json:"discovered"` // known so far
	ElapsedMS  int64  `json:"elapsed_ms"`
}

// writePending answers 202: what was asked for is still being built; Retry-After says when to
// ask again.
func (s *server) writePending(c *gin.Context, id string, fetched, discovered int64, started time.Time) {
	c.Header("Retry-After", "1")
	s.writeJSON(c, http.StatusAccepted, apiPending{Status: "pending", ID: id, Fetched: fetched,
		Discovered: discovered, ElapsedMS: time.Since(started).Milliseconds()})
}

// failJSON writes the apiError for err. Only 5xx is logged as an error.
func (s *server) failJSON(c *gin.Context, err error) {
	if c.Request.Context().Err() != nil && errors.Is(err, c.Request.Context().Err()) {
		c.Abort()
		return
	}
	_, cl := class(err)
	status := cl.status
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "status", status, "err", err)
	}
	body := apiError{Status: status, Code: cl.code, Error: err.Error(), Retry: cl.retry}
	var le *lookupError
	if errors.As(err, &le) {
		body.What, body.Value = le.what, le.value
		body.Error = le.err.Error()
	}
	if status == http.StatusBadRequest {
		hint, example := exampleFor(body.What)
		if hint != "" {
			body.Hint = hint + " " + example
		}
	}
	var snf *lineage.SerialNotFoundError
	if errors.As(err, &snf) && !snf.IndexedAsOf.IsZero() {
		body.AsOf = snf.IndexedAsOf.UTC().Format(time.RFC3339)
	}
	var dym *didYouMeanError
	if errors.As(err, &dym) {
		body.DidYouMean = &apiSuggestion{BatchID: dym.suggestion.BatchID, SerialNumber: dym.suggestion.Serial, URL: s.url(dym.suggestion.URL)}
	}
	if status == http.StatusMethodNotAllowed && c.Writer.Header().Get("Allow") == "" {
		c.Header("Allow", readOnly)
	}
	s.writeJSON(c, status, body)
}

// apiPrefix is where the JSON API lives under the base path.
const apiPrefix = "/api/v1"

// isAPIPath reports whether a request path is under the JSON API: under the base path only, as
// the API's routes are; /api/v1/ at the root under a base path is outside the app.
func (s *server) isAPIPath(p string) bool {
	rest, ok := strings.CutPrefix(p, s.basePath)
	return ok && (rest == apiPrefix || strings.HasPrefix(rest, apiPrefix+"/"))
}

// routeError is a request for an address or a method the JSON API does not have. It wraps
// errRouteNotFound or errMethodNotAllowed, so that classify reads it as those,
// with a message a tool's user can act on.
type routeError struct {
	msg  string
	kind error
	// allow is the methods the address answers (its Allow header), for errMethodNotAllowed.
	allow string
}

// Error says what the API does not have and what it has instead.
func (e *routeError) Error() string { return e.msg }

// Unwrap gives errRouteNotFound or errMethodNotAllowed.
func (e *routeError) Unwrap() error { return e.kind }

// apiRouteError describes the request c as a route the API lacks (kind errRouteNotFound) or a
// method it refuses (errMethodNotAllowed); "what" and "value" name the path as asked.
func (s *server) apiRouteError(c *gin.Context, kind error) error {
	if errors.Is(kind, errRouteNotFound) {
		routes := []string{
			s.url(apiPrefix + "/batches/{id}/lineage"), s.url(apiPrefix + "/serial/{serial}"),
			s.url(apiPrefix + "/issuances/{id}"), s.url(apiPrefix + "/retirements/{id}"),
			s.url(apiPrefix + "/projects/{id}"), s.url(apiPrefix + "/organisations/{id}")}
		if s.history != nil {
			routes = append(routes, s.url(apiPrefix+"/batches/{id}/history"))
		}
		routes = append(routes, "POST "+s.url(apiPrefix+"/claims"), s.url(apiPrefix+"/claims/{id}"))
		if s.watching() {
			routes = append(routes, s.url(apiPrefix+"/watches")+" (GET, POST)", "DELETE "+s.url(apiPrefix+"/watches/{id}"))
		}
		msg := "the API has no route at this address; its routes are " + strings.Join(routes, ", ")
		return &lookupError{what: "API route", value: c.Request.URL.Path, err: &routeError{msg: msg, kind: kind}}
	}
	return &lookupError{what: "API route", value: c.Request.URL.Path, err: methodError(c)}
}

// readOnly is the Allow header of an address that only reads.
const readOnly = "GET, HEAD"

// methodError is c's method refused at an address that has others: gin has set the Allow
// header to those (readOnly when it has not), and the error names them.
func methodError(c *gin.Context) *routeError {
	allow := c.Writer.Header().Get("Allow")
	if allow == "" {
		allow = readOnly
		c.Header("Allow", allow)
	}
	msg := c.Request.Method + " is not allowed here: this address answers " + methodWords(allow)
	if allow == readOnly {
		msg = c.Request.Method + " is not allowed here: this address only reads, with GET or HEAD"
	}
	return &routeError{msg: msg, kind: errMethodNotAllowed, allow: allow}
}

// methodWords is an Allow header's methods as words: "GET, HEAD and POST".
func methodWords(allow string) string {
	ms := strings.Split(allow, ",")
	for i := range ms {
		ms[i] = strings.TrimSpace(ms[i])
	}
	if len(ms) == 1 {
		return ms[0]
	}
	return strings.Join(ms[:len(ms)-1], ", ") + " and " + ms[len(ms)-1]
}

// writeJSON writes v encoded in full first, so that an encoding failure is a clean 500.
// Markup in upstream text is escaped (\u003c), so that a body opened in a browser runs
// nothing.
func (s *server) writeJSON(c *gin.Context, status int, v any) {
	if e, ok := v.(apiError); ok {
		v = e.cut()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		s.log.Error("JSON encoding failed", "path", c.Request.URL.Path, "err", err)
		buf.Reset()
		buf.WriteString(`{"status":500,"code":"internal","error":"the answer could not be encoded"}` + "\n")
		status = http.StatusInternalServerError
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Add("Vary", "Accept-Encoding")
	body := buf.Bytes()
	// An organisation's or an issuance's report runs to megabytes of repeated keys: compressed
	// it is about a tenth, as the pages are.
	if len(body) > 8<<10 && acceptsGzip(c.GetHeader("Accept-Encoding")) {
		if z, ok := gzipped(body, gzip.BestSpeed); ok {
			body = z
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if status != http.StatusOK {
		h.Set("Cache-Control", "no-store")
	}
	c.Status(status)
	_, _ = c.Writer.Write(body)
}
