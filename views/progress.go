package views

import (
	"strconv"
	"time"
)

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
	// Partial, when set, is what is known of the tree so far, shown below the progress.
	Partial *PartialLineage
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
