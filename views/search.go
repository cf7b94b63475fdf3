package views

import ()

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
	// Cut is set when the query was longer than the parser reads, CutAt characters, so that a
	// long pasted list does not lose its tail without a word.
	Cut   bool
	CutAt int
}
