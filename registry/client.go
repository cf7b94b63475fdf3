package registry

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// ProductionURL and SandboxURL are the upstream's base URLs, up to and including /registry/v0.
const (
	ProductionURL = "https://api.isometric.com/registry/v0"
	SandboxURL    = "https://api.sandbox.isometric.com/registry/v0"
)

// MaxPageSize is the most items the upstream returns in one page of a Relay list.
const MaxPageSize = 50

// maxBodyBytes caps how much of an answer is read: the largest legitimate answer (an issuance's
// hundreds of root batches) is well under this, and a runaway proxy must not exhaust memory.
const maxBodyBytes = 32 << 20

// ClientConfig configures a Client. Only BaseURL, AccessToken and ClientSecret are required;
// zero values elsewhere take the defaults given.
type ClientConfig struct {
	BaseURL      string // up to and including /registry/v0, e.g. ProductionURL
	AccessToken  string // sent as "Authorization: Bearer <token>"
	ClientSecret string // sent as "x-client-secret"

	// Concurrency is the most requests in flight at once for this client, whatever the number
	// of callers (UPSTREAM_CONCURRENCY). Default 8.
	Concurrency int
	// Timeout bounds one attempt (connect to last byte). Default 15s.
	Timeout time.Duration
	// MaxAttempts is how many times a retryable request is sent in all. Default 5.
	MaxAttempts int
	// BaseBackoff is the first retry's nominal wait; it doubles each time, with full jitter.
	// Default 200ms.
	BaseBackoff time.Duration
	// MaxBackoff caps one wait, including one asked for by Retry-After. Default 10s.
	MaxBackoff time.Duration
	// HTTPClient sends the requests. Default: a client with a tuned transport and no overall
	// timeout (Timeout above applies per attempt).
	HTTPClient *http.Client
}

// Client reads the Isometric Registry API. It is safe for concurrent use; one Client per
// process is what bounds the whole process's upstream concurrency.
type Client struct {
	base        *url.URL
	token       string
	secret      string
	http        *http.Client
	sem         *semaphore.Weighted
	timeout     time.Duration
	maxAttempts int
	baseBackoff time.Duration
	maxBackoff  time.Duration

	requests atomic.Int64 // attempts sent
	retries  atomic.Int64 // attempts that were retries
	inFlight atomic.Int64
	observer atomic.Pointer[func(RequestEvent)]
}

// RequestEvent describes one finished upstream attempt, for metrics.
type RequestEvent struct {
	Endpoint string        // route template, e.g. "/credit_batches/{id}"
	Status   int           // HTTP status, 0 for a transport failure
	Duration time.Duration // time of this attempt, not counting the wait for a concurrency slot
	Retry    bool          // whether this attempt was a retry
}

// NewClient checks cfg and returns a Client. It returns an error when BaseURL is not an absolute
// http(s) URL or when a credential is missing; the error never contains the credentials.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("registry base URL %q must be an absolute http(s) URL", cfg.BaseURL)
	}
	if u.User != nil {
		return nil, errors.New("registry base URL must not carry user information")
	}
	if cfg.AccessToken == "" || cfg.ClientSecret == "" {
		return nil, errors.New("registry access token and client secret are both required")
	}
	c := &Client{
		base:        u,
		token:       cfg.AccessToken,
		secret:      cfg.ClientSecret,
		http:        cfg.HTTPClient,
		timeout:     cmp.Or(max(cfg.Timeout, 0), 15*time.Second),
		maxAttempts: cmp.Or(max(cfg.MaxAttempts, 0), 5),
		baseBackoff: cmp.Or(max(cfg.BaseBackoff, 0), 200*time.Millisecond),
		maxBackoff:  cmp.Or(max(cfg.MaxBackoff, 0), 10*time.Second),
	}
	conc := cmp.Or(max(cfg.Concurrency, 0), 8)
	c.sem = semaphore.NewWeighted(int64(conc))
	if c.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = conc
		c.http = &http.Client{Transport: t}
	}
	return c, nil
}

// SetObserver installs fn to be called after every upstream attempt (for metrics). fn must be
// fast and safe for concurrent use.
func (c *Client) SetObserver(fn func(RequestEvent)) { c.observer.Store(&fn) }

// ClientStats are counters since the Client was made.
type ClientStats struct {
	Requests int64 // attempts sent upstream, retries included
	Retries  int64 // attempts that were retries
	InFlight int64 // attempts under way now
}

// Stats returns the client's counters.
func (c *Client) Stats() ClientStats {
	return ClientStats{Requests: c.requests.Load(), Retries: c.retries.Load(), InFlight: c.inFlight.Load()}
}

// CreditBatch fetches one credit batch: GET /credit_batches/{id}. It returns an error wrapping
// ErrInvalid (without sending anything) for a malformed id, ErrNotFound for an unknown one, or
// another sentinel error (see APIError); ErrUnavailable when the answer is not a JSON object. A
// member that cannot be read does not fail it: see CreditBatch.Unread.
func (c *Client) CreditBatch(ctx context.Context, id string) (*CreditBatch, error) {
	if err := ValidateID(PrefixCreditBatch, id); err != nil {
		return nil, err
	}
	var b CreditBatch
	if err := c.get(ctx, "/credit_batches/{id}", "/credit_batches/"+id, nil, &b); err != nil {
		return nil, err
	}
	if b.NotAnObject() {
		// A list keeps going without such an element; a batch asked for by id has nothing to show.
		return nil, &APIError{Kind: ErrUnavailable, Endpoint: "/credit_batches/{id}", Path: "/credit_batches/" + id,
			Status: 200, Message: "the answer could not be decoded: the record is not a JSON object", Attempts: 1}
	}
	return &b, nil
}

// Issuances fetches one page of issuances: GET /issuances?first=&after=. first is clamped to
// 1..MaxPageSize; after is the previous page's EndCursor, or "" for the first page. An element
// that cannot be read does not fail the page: it is there, with its Unread (and an id that is
// "" when even that could not be read).
func (c *Client) Issuances(ctx context.Context, first int, after string) (*Page[Issuance], error) {
	var p Page[Issuance]
	if err := c.get(ctx, "/issuances", "/issuances", pageQuery(first, after), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// AllIssuances fetches every page of GET /issuances, MaxPageSize at a time, in the upstream's
// order. It stops with an error (and no partial list) if any page fails, and with ErrInvalid if
// the upstream's cursors do not advance.
func (c *Client) AllIssuances(ctx context.Context) ([]Issuance, error) {
	return collectPages(ctx, func(ctx context.Context, after string) (*Page[Issuance], error) {
		return c.Issuances(ctx, MaxPageSize, after)
	})
}

// Issuance fetches one issuance: GET /issuances/{id}.
func (c *Client) Issuance(ctx context.Context, id string) (*Issuance, error) {
	if err := ValidateID(PrefixIssuance, id); err != nil {
		return nil, err
	}
	var v Issuance
	if err := c.get(ctx, "/issuances/{id}", "/issuances/"+id, nil, &v); err != nil {
		return nil, err
	}
	if v.NotAnObject() {
		return nil, &APIError{Kind: ErrUnavailable, Endpoint: "/issuances/{id}", Path: "/issuances/" + id,
			Status: 200, Message: "the answer could not be decoded: the record is not a JSON object", Attempts: 1}
	}
	return &v, nil
}

// IssuanceCreditBatches fetches the root batches an issuance created, as they are now (some may
// be split): GET /issuances/{id}/credit_batches.
func (c *Client) IssuanceCreditBatches(ctx context.Context, id string) (*IssuanceCreditBatches, error) {
	if err := ValidateID(PrefixIssuance, id); err != nil {
		return nil, err
	}
	var v IssuanceCreditBatches
	if err := c.get(ctx, "/issuances/{id}/credit_batches", "/issuances/"+id+"/credit_batches", nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Retirement fetches one retirement: GET /retirements/{id}.
func (c *Client) Retirement(ctx context.Context, id string) (*Retirement, error) {
	if err := ValidateID(PrefixRetirement, id); err != nil {
		return nil, err
	}
	var v Retirement
	if err := c.get(ctx, "/retirements/{id}", "/retirements/"+id, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// RetirementCreditBatches fetches the batches a retirement retired:
// GET /retirements/{id}/credit_batches.
func (c *Client) RetirementCreditBatches(ctx context.Context, id string) (*List[CreditBatch], error) {
	if err := ValidateID(PrefixRetirement, id); err != nil {
		return nil, err
	}
	var v List[CreditBatch]
	if err := c.get(ctx, "/retirements/{id}/credit_batches", "/retirements/"+id+"/credit_batches", nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// OrganisationBatchFilter narrows GET /organisations/{id}/credit_batches. Empty fields are not
// sent. Statuses empty means the upstream's default (every status but split).
type OrganisationBatchFilter struct {
	SupplierID, ProjectID, IssuanceID, DeliveryID, OrderID, RetirementID string
	Statuses                                                             []Status
	IssuedAfter, IssuedBefore                                            time.Time
	SortDescending                                                       bool // by issued_at
}

// OrganisationCreditBatches fetches one page of the batches an organisation owns or retired:
// GET /organisations/{id}/credit_batches with the filter's query parameters.
func (c *Client) OrganisationCreditBatches(ctx context.Context, orgID string, f OrganisationBatchFilter, first int, after string) (*Page[CreditBatch], error) {
	if err := ValidateID(PrefixOrganisation, orgID); err != nil {
		return nil, err
	}
	q := pageQuery(first, after)
	for k, v := range map[string]string{"supplier_id": f.SupplierID, "project_id": f.ProjectID,
		"issuance_id": f.IssuanceID, "delivery_id": f.DeliveryID, "order_id": f.OrderID, "retirement_id": f.RetirementID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for _, s := range f.Statuses {
		q.Add("status", string(s))
	}
	if !f.IssuedAfter.IsZero() {
		q.Set("issued_after", f.IssuedAfter.UTC().Format(time.RFC3339))
	}
	if !f.IssuedBefore.IsZero() {
		q.Set("issued_before", f.IssuedBefore.UTC().Format(time.RFC3339))
	}
	q.Set("sort_field", "issued_at")
	if f.SortDescending {
		q.Set("sort_direction", "desc")
	} else {
		q.Set("sort_direction", "asc")
	}
	var p Page[CreditBatch]
	if err := c.get(ctx, "/organisations/{id}/credit_batches", "/organisations/"+orgID+"/credit_batches", q, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// AllOrganisationCreditBatches fetches every page of OrganisationCreditBatches.
func (c *Client) AllOrganisationCreditBatches(ctx context.Context, orgID string, f OrganisationBatchFilter) ([]CreditBatch, error) {
	return collectPages(ctx, func(ctx context.Context, after string) (*Page[CreditBatch], error) {
		return c.OrganisationCreditBatches(ctx, orgID, f, MaxPageSize, after)
	})
}

// Ping checks that the upstream answers and accepts the credentials, with the cheapest call
// there is (one issuance). It returns nil or the client's usual errors.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.Issuances(ctx, 1, "")
	return err
}

func pageQuery(first int, after string) url.Values {
	q := url.Values{}
	q.Set("first", strconv.Itoa(min(max(first, 1), MaxPageSize)))
	if after != "" {
		q.Set("after", after)
	}
	return q
}

// MaxPages stops a paging loop whose upstream never says it is done: no listing of the
// registry is followed past this many pages.
const MaxPages = 100_000

func collectPages[T any](ctx context.Context, page func(context.Context, string) (*Page[T], error)) ([]T, error) {
	var all []T
	after := ""
	for i := 0; i < MaxPages; i++ {
		p, err := page(ctx, after)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Nodes...)
		if !p.PageInfo.HasNextPage {
			return all, nil
		}
		if p.PageInfo.EndCursor == "" || p.PageInfo.EndCursor == after {
			return nil, fmt.Errorf("%w: the registry's page cursor did not advance", ErrInvalid)
		}
		after = p.PageInfo.EndCursor
	}
	return nil, fmt.Errorf("%w: more than %d pages", ErrInvalid, MaxPages)
}
