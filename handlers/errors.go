package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

// lookupError is a failure to show something that was asked for: it keeps what was looked
// for, so that the error page can name it, and where to retry.
type lookupError struct {
	what  string // "credit batch", "serial number"
	value string // the id or serial as asked (untrusted; rendered escaped)
	retry string // URL that tries again, "" when retrying cannot help
	// param: value is a query parameter's (?verdict=, ?since=), not an id, and err says what
	// the parameter takes.
	param bool
	err   error
}

// Error names what was looked for and why it could not be shown.
func (e *lookupError) Error() string { return e.what + " " + e.value + ": " + e.err.Error() }

// Unwrap gives the cause, which statusFor matches.
func (e *lookupError) Unwrap() error { return e.err }

// errRouteNotFound is a URL that names no page.
var errRouteNotFound = errors.New("no such page")

// errMethodNotAllowed is a method other than GET or HEAD.
var errMethodNotAllowed = errors.New("method not allowed")

// fail renders the error page for err. Only server-side failures (5xx) are logged as errors;
// the registry's errors never carry the credentials, so they can be logged and shown.
func (s *server) fail(c *gin.Context, err error) {
	if c.Request.Context().Err() != nil && errors.Is(err, c.Request.Context().Err()) {
		c.Abort() // the browser went away
		return
	}
	status := statusFor(err)
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "status", status, "err", err)
	}
	if status == http.StatusMethodNotAllowed && c.Writer.Header().Get("Allow") == "" {
		c.Header("Allow", readOnly)
	}
	s.render(c, status, views.Error(s.errorPage(status, err)))
}

// errorPage says what went wrong in the reader's terms.
func (s *server) errorPage(status int, err error) views.ErrorPage {
	p := views.ErrorPage{Base: s.base(http.StatusText(status)), Status: status}
	var le *lookupError
	var snf *lineage.SerialNotFoundError
	var nit *notInTreeError
	kind, _ := class(err)
	what, value := "page", ""
	if errors.As(err, &le) {
		what, value = le.what, shown(le.value)
		p.RetryURL = le.retry
	}
	switch {
	case kind == kindNoRoute:
		p.Heading = "There is no page at this address"
		p.Message = "Start from the search box: paste a credit batch id, a serial number or a registry link."
	case kind == kindUnauthenticated || kind == kindForbidden:
		p.Heading = "You cannot use this explorer from here"
		p.Message = views.Capitalised(err.Error()) + ". Open the explorer through your organisation's sign-in, or ask whoever runs it for access."
		p.RetryURL = ""
	case kind == kindMethod:
		p.Heading = "This address only answers GET and HEAD"
		p.Message = "The explorer only reads: nothing here can be changed."
		if re := (*routeError)(nil); errors.As(err, &re) && re.allow != readOnly {
			p.Heading = "This address only answers " + methodWords(re.allow)
			p.Message = "Use the explorer's own pages and forms here."
		}
	case kind == kindInvalid && le != nil && le.param:
		p.Heading = fmt.Sprintf("That is not a valid %s", what)
		p.Message = fmt.Sprintf("“%s” is not a valid %s: %s.", value, what, strings.TrimPrefix(le.err.Error(), registry.ErrInvalid.Error()+": "))
	case kind == kindInvalid:
		noun := what
		if what != "serial number" && what != "page" {
			noun = what + " id" // say which kind of id: "not a valid retirement id"
		}
		p.Heading = fmt.Sprintf("That is not a valid %s", noun)
		p.Message = fmt.Sprintf("“%s” is not a well-formed %s, so nothing was asked of the registry.", value, noun)
		if se := (*registry.SerialError)(nil); errors.As(err, &se) {
			p.Message = fmt.Sprintf("“%s” is not a well-formed %s: %s. Nothing was asked of the registry.", value, noun, se.Why)
		} else if d := registry.OtherDigits(value); d != "" {
			p.Message = fmt.Sprintf("“%s” is not a well-formed %s: it has %s, and ids are written with the digits 0–9. Nothing was asked of the registry.", value, noun, d)
		}
		p.Hint, p.Example = exampleFor(what)
		if what == "serial number" {
			p.Detail = err.Error() // which part of it is wrong, in our own words
		}
		p.RetryURL = ""
	case kind == kindNotFound && errors.As(err, &nit):
		p.Heading = fmt.Sprintf("%s is not in this tree", shown(nit.node))
		p.Message = fmt.Sprintf("The lineage tree of %s has no batch %s, so it has no branch to show for it. The link may be out of date; the batch's own page shows its own tree.", shown(nit.tree), shown(nit.node))
		p.RetryURL = ""
	case kind == kindNotFound && errors.As(err, &snf):
		p.Heading = fmt.Sprintf("No credit batch has serial number %s", value)
		p.Message = fmt.Sprintf("No credit batch in the registry has serial number %s or holds its units. %s", value, indexFreshness(snf.IndexedAsOf))
		p.Hint = "Check it for a typo, or search by the credit batch id, which the registry shows next to the serial number. " + views.SerialConvention
		p.RetryURL = ""
	case kind == kindNotFound:
		p.Heading = fmt.Sprintf("No %s %s in the registry", what, value)
		p.Message = fmt.Sprintf("The registry has no %s %s. Check it for a typo, or search for it another way (by id, serial number or a registry link).", what, value)
		p.RetryURL = ""
	case kind == kindCredentials:
		p.Heading = "The registry rejected the explorer's credentials"
		p.Message = "The registry refused the access token and client secret this explorer is configured with " +
			"(ISOMETRIC_ACCESS_TOKEN, ISOMETRIC_CLIENT_SECRET), so nothing can be shown. Whoever runs the explorer needs to update them; retrying will not help until then."
		p.RetryURL = ""
	case kind == kindTimeout:
		p.Heading = "The registry did not answer in time"
		p.Message = fmt.Sprintf("Nothing could be fetched for %s %s before the registry timed out, even after retrying. It may be slow right now.", what, value)
		p.Detail = err.Error()
	case kind == kindThrottled:
		p.Heading = "The registry is throttling requests"
		p.Message = fmt.Sprintf("The registry kept asking us to slow down, so nothing could be fetched for %s %s. Wait a moment and try again.", what, value)
		p.Detail = err.Error()
	case kind == kindIncomplete:
		p.Heading = "The index of serial numbers is incomplete"
		p.Message = fmt.Sprintf("The registry’s list of issuances never ends (its pages lead back to pages already listed), so the explorer could not index every issuance, and %s %s may belong to one it could not list. The index is built again every few minutes; meanwhile, search by the credit batch id.", what, value)
		p.Detail = err.Error()
	case kind == kindUnavailable:
		p.Heading = "The registry could not be reached"
		p.Message = fmt.Sprintf("Nothing could be fetched for %s %s: the registry kept failing, even after retrying.", what, value)
		p.Detail = err.Error()
	default:
		p.Heading = "Something went wrong on our side"
		p.Message = "This is a fault in the explorer, not in your request. It has been logged; please try again."
	}
	return p
}

// exampleFor says what a valid value of a kind looks like.
func exampleFor(what string) (hint, example string) {
	switch what {
	case "credit batch":
		return "A credit batch id is “ctb_” followed by 16 to 33 letters or digits, like", registry.ExampleID(registry.PrefixCreditBatch)
	case "serial number":
		return "A serial number has eight parts: registry, version, pathway, country, project code, vintage and the two ends of its unit range, like", registry.ExampleSerial
	case "issuance":
		return "An issuance id is “iss_” followed by 16 to 33 letters or digits, like", registry.ExampleID(registry.PrefixIssuance)
	case "retirement":
		return "A retirement id is “ret_” followed by 16 to 33 letters or digits, like", registry.ExampleID(registry.PrefixRetirement)
	case "project":
		return "A project id is “prj_” followed by 16 to 33 letters or digits, like", registry.ExampleID(registry.PrefixProject)
	case "organisation":
		return "An organisation id is “org_” followed by 16 to 33 letters or digits, like", registry.ExampleID(registry.PrefixOrganisation)
	}
	return "", ""
}

// indexFreshness says how fresh the index of issuances behind serial lookups is: a batch of an
// issuance made since is not known yet.
func indexFreshness(asOf time.Time) string {
	if asOf.IsZero() {
		return "The index of the registry’s issuances is still being built, so a batch of a recent issuance may not be known yet; try again in a minute."
	}
	return "The index of the registry’s issuances is as of " + asOf.UTC().Format("2006-01-02 15:04:05 UTC") +
		": a batch of an issuance made since then is not known yet."
}

// failByPath answers err as JSON under the JSON API and with the error page elsewhere: for
// failures found before a route's own handler runs, such as the sign-in check, where a tool
// calling the API would otherwise get a page it cannot parse.
func (s *server) failByPath(c *gin.Context, err error) {
	if s.isAPIPath(c.Request.URL.Path) {
		s.failJSON(c, err)
		return
	}
	s.fail(c, err)
}

// noRoute answers a request no route matched: under the JSON API with a JSON error, since the
// tool calling it parses JSON, not a page; anything else gets the 404 page.
func (s *server) noRoute(c *gin.Context) {
	if serial, ok := s.encodedSlashSerial(c); ok {
		// A serial number with a slash in it (%2F, as a link percent-encodes one) is still a
		// serial number asked for: it gets the serial's own 400 naming the slash, not "no page".
		c.Params = gin.Params{{Key: "serial", Value: serial}} // not what the failed match left
		if s.isAPIPath(c.Request.URL.Path) {
			s.api(s.serialJSON)(c)
		} else {
			s.page(s.serial)(c)
		}
		return
	}
	if s.isAPIPath(c.Request.URL.Path) {
		s.failJSON(c, s.apiRouteError(c, errRouteNotFound))
		return
	}
	s.fail(c, errRouteNotFound)
}

// encodedSlashSerial reports whether a GET or HEAD that no route took is /serial/{serial} or
// /api/v1/serial/{serial} whose serial carries an encoded slash (%2F), which the router read as
// a path separator; serial is the value as asked, decoded.
func (s *server) encodedSlashSerial(c *gin.Context) (string, bool) {
	if m := c.Request.Method; m != http.MethodGet && m != http.MethodHead {
		return "", false
	}
	escaped := appPath(s.basePath, c.Request.URL.EscapedPath())
	for _, prefix := range []string{"/serial/", apiPrefix + "/serial/"} {
		rest, ok := strings.CutPrefix(escaped, prefix)
		if !ok || strings.Contains(rest, "/") || !strings.Contains(strings.ToLower(rest), "%2f") {
			continue
		}
		v, err := url.PathUnescape(rest)
		if err != nil {
			return "", false
		}
		return v, true
	}
	return "", false
}

// noMethod answers a method no route of the path has (gin has set Allow), in JSON under the
// API as noRoute does.
func (s *server) noMethod(c *gin.Context) {
	if s.isAPIPath(c.Request.URL.Path) {
		s.failJSON(c, s.apiRouteError(c, errMethodNotAllowed))
		return
	}
	s.fail(c, methodError(c))
}

// shown makes untrusted input fit to print in a page: valid UTF-8 (a raw byte would make the
// whole page invalid), control characters (NUL, CR, LF) as visible replacement characters,
// and at most 120 characters, so that a pasted essay does not fill the screen. Escaping is
// templ's job; this is about legibility.
func shown(s string) string {
	const limit = 120
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == limit {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
