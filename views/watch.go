package views

import (
	"net/url"
	"strings"
)

// WatchButton is a form that adds a watch of one thing (POST /watch), shown on the page of
// that thing. The zero value shows nothing (the explorer keeps no watch lists).
type WatchButton struct {
	Kind   string // batch, issuance or serial (history.Watch* constants)
	Target string // the id or serial number; untrusted text, escaped
	Label  string // the button's words, such as "Watch this tree"
}

// WatchURL is the watch list page; forms that add a watch post to it.
func WatchURL() string { return "/watch" }

// WatchDeleteURL is where the form that removes watch id posts.
func WatchDeleteURL(id string) string { return "/watch/" + url.PathEscape(id) + "/delete" }

// WatchWebhookURL is where the webhook form posts.
func WatchWebhookURL() string { return "/watch/webhook" }

// WatchesJSONURL is the watch list as JSON.
func WatchesJSONURL() string { return "/api/v1/watches" }

// WatchPage is /watch: the user's watches, what changed in each since their last visit, and
// the list's webhook.
type WatchPage struct {
	Base
	Items []WatchItem
	// LastVisit is when the page was last opened (the changes listed are those observed
	// since), "" on a first visit.
	LastVisit string
	Interval  string // how often watched trees are polled, such as "15 min" (FormatInterval)
	Budget    string // the polling budget in words
	// Standby: another replica of this explorer, sharing its database, polls and sends the
	// webhooks; this one shows what the journal recorded but knows no polling state.
	Standby bool
	// Unavailable says the watch list could not be read (the database failed).
	Unavailable bool
	// Notice says what became of the last form when it did nothing ("" when it did).
	Notice string
	// Error is why the last form was refused, with the values kept in Form.
	Error      string
	Form       WatchButton
	Webhook    WebhookView
	Deliveries []DeliveryView
}

// WatchItem is one watch on /watch.
type WatchItem struct {
	ID     string
	Kind   string // batch, issuance or serial
	What   string // "Tree of credit batch", "Issuance", "Serial number"
	Target string // untrusted text, escaped
	URL    string // the page of the thing watched
	Added  string
	// Polled says when its trees were last polled whole, or that they have not been yet.
	Polled string
	// Behind counts the active batches the last poll could not ask for (budget spent or the
	// registry failing); Batches and Active count its trees' batches.
	Behind          int
	Batches, Active int
	Err             string // why it could not be polled (not found, say)
	Changes         []HistoryEvent
	// ChangesUnavailable says the history could not be read for it.
	ChangesUnavailable bool
}

// WebhookView is the watch list's webhook as the page shows it: never the secret, and the URL
// cut after its host (a webhook URL often carries a token in its path).
type WebhookView struct {
	Enabled bool   // the explorer can send webhooks at all
	Set     bool   // the list has one
	Where   string // scheme and host, then "/…"
	Since   string
}

// DeliveryView is one recorded delivery to the webhook.
type DeliveryView struct {
	At       string
	OK       bool
	Status   int
	Attempts int
	Changes  int
	Err      string
}

// WebhookWhere is a webhook URL cut after its host, for showing it back.
func WebhookWhere(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(an address that cannot be read)"
	}
	out := u.Scheme + "://" + u.Host
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		out += "/…"
	}
	return out
}
