package views

import ()

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
}

// ProgressPercent is how far the walk is, as far as can be told (0..99): the share of the ids
// known so far that have been fetched. It never says 100 while the walk runs.
func (p ProgressPage) ProgressPercent() int64 {
	if p.Discovered <= 0 {
		return 0
	}
	return min(p.Fetched*100/p.Discovered, 99)
}

// HeadingText is the progress page's heading before the id.
func (p ProgressPage) HeadingText() string {
	if p.Heading != "" {
		return p.Heading
	}
	return "Tracing the lineage of"
}

// PageURL is the page the progress page stands for (its "Refresh now" link).
func (p ProgressPage) PageURL() string {
	if p.URL != "" {
		return p.URL
	}
	return BatchURL(p.ID)
}
