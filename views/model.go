// Package views renders the explorer's pages with templ. Components take display-ready page
// models (strings already formatted, URLs already built); the converters in this package turn
// registry data into those models. Views never call the registry: they only read its types.
package views

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/static"
)

// Base is what the layout of every page needs.
type Base struct {
	// Title is the page's own title; the layout appends the product name.
	Title string
	// Query pre-fills the search box in the page header (untrusted; rendered escaped).
	Query string
	// Demo marks pages served from the built-in demo registry with a banner.
	Demo bool
	// Refresh, when positive, makes the page reload itself after that many seconds (progress
	// pages), through a meta refresh so that no inline script is needed.
	Refresh int
	// RefreshURL is where the refresh goes; "" reloads the page itself.
	RefreshURL string
	// HideSearch leaves the search box out of the header (the home page has its own).
	HideSearch bool
}

// AssetURL is the URL of an embedded asset with the build's version, so that it can be cached
// for long and still change with a new build.
func AssetURL(name string) string { return "/static/" + name + "?v=" + static.Version }

// BatchURL is the canonical page of a credit batch.
func BatchURL(id string) string { return "/batches/" + url.PathEscape(id) }

// NodeAnchor is the fragment id of a batch's row in the tree of a lineage page.
func NodeAnchor(id string) string { return "n-" + id }

// SubtreeURL is the HTML fragment with the children of node in the lineage tree of the batch
// target (the tree the page showed), fetched when a collapsed subtree is opened.
func SubtreeURL(target, node string) string {
	return "/batches/" + url.PathEscape(target) + "/subtree/" + url.PathEscape(node)
}

// SerialURL is the canonical page of a serial number.
func SerialURL(serial string) string { return "/serial/" + url.PathEscape(serial) }

// SearchURL is the search route with a query.
func SearchURL(q string) string { return "/search?q=" + url.QueryEscape(q) }

// RetryURL is the lineage page of a batch that walks the tree again instead of reusing a walk
// that has just failed.
func RetryURL(id string) string { return BatchURL(id) + "?retry=1" }

// LineageJSONURL is the lineage of a batch as JSON, for tools.
func LineageJSONURL(id string) string { return "/api/v1/batches/" + url.PathEscape(id) + "/lineage" }

// LineageCSVURL is the lineage of a batch as CSV, one row per batch, for spreadsheets.
func LineageCSVURL(id string) string { return BatchURL(id) + "/lineage.csv" }

// Example is a page worth opening, listed on the home page (the demo registry's fixtures).
type Example struct {
	Label       string // what it shows, e.g. "A chain 300 splits deep"
	ID          string // a credit batch, issuance or retirement id, or a serial number (see ExampleURL)
	Description string // one sentence
}

// HomePage is the search box and the guide.
type HomePage struct {
	Base
	ExampleID     string    // a well-formed batch id, shown as the expected shape (it names nothing)
	ExampleSerial string    // a well-formed serial number, likewise only a shape
	Examples      []Example // batches worth opening (demo mode)
	// Registry is what the last readiness check learnt of the registry, so that a reader is
	// told before searching that searches will fail, rather than after.
	Registry RegistryState
	// ClaimsSample is whether the claims check can be filled with a sample list (the demo's).
	ClaimsSample bool
}

// DemoExample is the first example whose id is of the kind prefix names (registry.PrefixIssuance,
// say; "" for a serial number), when the page runs on the demo registry: a real value to open
// next to the made-up shape, which the demo does not have.
func (p HomePage) DemoExample(prefix string) (Example, bool) {
	if !p.Demo {
		return Example{}, false
	}
	for _, e := range p.Examples {
		if exampleKind(e.ID) == prefix {
			return e, true
		}
	}
	return Example{}, false
}

// exampleKind is the id prefix of an example's value, or "" for a serial number (as ExampleURL
// tells them apart).
func exampleKind(id string) string {
	for _, p := range []string{registry.PrefixCreditBatch, registry.PrefixIssuance, registry.PrefixRetirement} {
		if strings.HasPrefix(id, p+"_") {
			return p
		}
	}
	return ""
}

// RegistryState is what the readiness check last learnt of the registry, in kinds the page
// words itself: upstream text never reaches the notice, and neither can a credential.
type RegistryState int

// The states of the registry a page warns about. RegistryOK also stands for "not known yet".
const (
	RegistryOK          RegistryState = iota
	RegistryCredentials               // it rejected the configured access token or client secret
	RegistryThrottled                 // it asks us to slow down
	RegistryUnreachable               // it failed, timed out or could not be reached
)

// SearchOutcome says why the search page is shown instead of a redirect.
type SearchOutcome int

// The outcomes of a search that does not redirect.
const (
	SearchEmpty        SearchOutcome = iota // nothing was typed
	SearchUnrecognised                      // nothing in the query looks like an id, serial or URL of ours
	SearchSeveral                           // several things matched; the user picks one
	SearchInvalid                           // what it holds looks meant as ids or serials, none valid
)

// Dropped is a piece of a search that looks meant as an id or a serial number but is not a
// valid one, and why: the search page lists them so that nothing is left out silently.
type Dropped struct {
	Text string // as typed, cut short (untrusted; rendered escaped)
	Kind string // what it looks meant as: "serial number", "retirement id"
	Why  string // what is wrong with it
}

// Choice is one of several things a search matched.
type Choice struct {
	Kind  string // "credit batch", "serial number", "issuance", "retirement"
	Value string // the id or serial
	URL   string // where to go
}

// SearchPage is the answer to a search that could not simply redirect.
type SearchPage struct {
	Base
	Outcome       SearchOutcome // why there is no redirect
	Choices       []Choice      // what the query named (SearchSeveral)
	ExampleID     string        // a well-formed batch id, to show the expected shape
	ExampleSerial string        // a well-formed serial number
	// Dropped are the pieces left out, with why (SearchInvalid, and SearchSeveral when some
	// pieces were valid and others not).
	Dropped []Dropped
	// Shown is the query as the heading echoes it, cut short (a pasted essay must not fill
	// the screen); Base.Query keeps it whole in the search box, to be edited.
	Shown string
	// OtherDigits names the digits of other scripts the query has ("Arabic-Indic digits (٣)"),
	// which are not read as 0–9; "" when it has none.
	OtherDigits string
}

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
}

// StatusText is the status line shown on the page ("404 Not Found").
func (p ErrorPage) StatusText() string {
	return strconv.Itoa(p.Status) + " " + http.StatusText(p.Status)
}

// ProgressPage is shown while a lineage walk is under way; it reloads itself.
type ProgressPage struct {
	Base
	ID         string // the batch whose lineage is being walked (or issuance, retirement)
	Heading    string // words before the id; "" for "Tracing the lineage of"
	URL        string // the page it stands for; "" for the batch's lineage page
	Fetched    int64  // batches fetched so far
	Discovered int64  // batch ids known so far
	Elapsed    string // time since the walk started
	// Download names the file the walk prepares ("CSV file"), when the page stands for a
	// download rather than a page: it says the file comes by itself and links the lineage page.
	Download string
	// ByKg is set for one tree's walk, whose progress is measured in kg (Permille); a report's
	// walks of several trees are measured in batches fetched of those found.
	ByKg bool
	// Permille is the walk's lineage.Progress.Permille: thousandths of the root's kg in
	// complete subtrees, 0 until the root is reached, never decreasing.
	Permille int64
	// Left estimates the time still to go ("about 40 s"), "" while too little is known.
	Left string
}

// ProgressPercent is how far the walk is, as far as can be told (0..99 while it runs): for a
// tree's walk, the share of the root's kg in complete subtrees (see ByKg), which only rises;
// for a report's, the share of the ids known so far that have been fetched.
func (p ProgressPage) ProgressPercent() int64 {
	if p.ByKg {
		return min(p.Permille/10, 99)
	}
	if p.Discovered <= 0 {
		return 0
	}
	return min(p.Fetched*100/p.Discovered, 99)
}

// EstimateLeft is the time a walk that has done permille thousandths of its work in elapsed
// still needs at the same pace, as a page says it ("about 40 s"); "" when the walk has done
// less than 2 % or run less than 2 s, too little for the guess to mean anything.
func EstimateLeft(elapsed time.Duration, permille int64) string {
	if permille < 20 || permille >= 1000 || elapsed < 2*time.Second {
		return ""
	}
	left := time.Duration(int64(elapsed/time.Millisecond)*(1000-permille)/permille) * time.Millisecond
	if left < 5*time.Second {
		return "a few seconds"
	}
	secs := int64(left.Round(5*time.Second) / time.Second)
	if secs < 60 {
		return "about " + strconv.FormatInt(secs, 10) + " s"
	}
	return "about " + strconv.FormatInt((secs+30)/60, 10) + " min"
}
