package isometric

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

	"github.com/lineage-explorer/explorer/registry"
)

// ProductionURL and SandboxURL are the upstream's base URLs, up to and including /registry/v0.
const (
	ProductionURL = "https://api.isometric.com/registry/v0"
	SandboxURL    = "https://api.sandbox.isometric.com/registry/v0"
)

// maxBodyBytes caps how much of an answer is read: the largest legitimate answer (an issuance's
// hundreds of root batches) is well under this, and a runaway proxy must not exhaust memory.
const maxBodyBytes = 32 << 20

// MinSecretLength is the fewest characters NewClient accepts in the access token and in the
// client secret: anything shorter cannot be a real credential, and would be redacted out of the
// registry's messages as fragments of words.
const MinSecretLength = 8

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
	observer atomic.Pointer[func(registry.RequestEvent)]
}

// NewClient checks cfg and returns a Client. It returns an error when BaseURL is not an absolute
// http(s) URL, when a credential is missing, or when one is shorter than MinSecretLength (the
// error then names its variable, ISOMETRIC_ACCESS_TOKEN or ISOMETRIC_CLIENT_SECRET); the error
// never contains the credentials.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ISOMETRIC_API_URL: registry base URL %q must be an absolute http(s) URL", cfg.BaseURL)
	}
	if u.User != nil {
		return nil, errors.New("ISOMETRIC_API_URL: registry base URL must not carry user information")
	}
	if cfg.AccessToken == "" || cfg.ClientSecret == "" {
		return nil, errors.New("registry access token and client secret are both required")
	}
	// A credential is redacted out of everything the upstream sends back; one of a letter or
	// two would be "redacted" out of every word. No real credential is that short: refuse it.
	for _, c := range []struct{ name, value string }{
		{"ISOMETRIC_ACCESS_TOKEN", cfg.AccessToken}, {"ISOMETRIC_CLIENT_SECRET", cfg.ClientSecret}} {
		if n := len(c.value); n < MinSecretLength {
			return nil, fmt.Errorf("%s: %d characters is too short for a registry credential (at least %d); is it the right value?", c.name, n, MinSecretLength)
		}
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
func (c *Client) SetObserver(fn func(registry.RequestEvent)) { c.observer.Store(&fn) }

// Stats returns the client's counters.
func (c *Client) Stats() registry.ClientStats {
	return registry.ClientStats{Requests: c.requests.Load(), Retries: c.retries.Load(), InFlight: c.inFlight.Load()}
}

// CreditBatch fetches one credit batch: GET /credit_batches/{id}. It returns an error wrapping
// ErrInvalid (without sending anything) for a malformed id, ErrNotFound for an unknown one, or
// another sentinel error (see APIError); ErrUnavailable when the answer is not a JSON object. A
// member that cannot be read does not fail it: see registry.CreditBatch.Unread.
func (c *Client) CreditBatch(ctx context.Context, id string) (*registry.CreditBatch, error) {
	if err := registry.ValidateID(registry.PrefixCreditBatch, id); err != nil {
		return nil, err
	}
	var b registry.CreditBatch
	if err := c.get(ctx, "/credit_batches/{id}", "/credit_batches/"+id, nil, &b); err != nil {
		return nil, err
	}
	if b.NotAnObject() {
		// A list keeps going without such an element; a batch asked for by id has nothing to show.
		return nil, &registry.APIError{Kind: registry.ErrUnavailable, Endpoint: "/credit_batches/{id}", Path: "/credit_batches/" + id,
			Status: 200, Message: "the answer could not be decoded: the record is not a JSON object", Attempts: 1}
	}
	return &b, nil
}

// Issuances fetches one page of issuances: GET /issuances?first=&after=. first is clamped to
// 1..MaxPageSize; after is the previous page's EndCursor, or "" for the first page. An element
// that cannot be read does not fail the page: it is there, with its Unread (and an id that is
// "" when even that could not be read).
func (c *Client) Issuances(ctx context.Context, first int, after string) (*registry.Page[registry.Issuance], error) {
	var p registry.Page[registry.Issuance]
	if err := c.get(ctx, "/issuances", "/issuances", pageQuery(first, after), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// AllIssuances fetches every page of GET /issuances, MaxPageSize at a time, in the upstream's
// order, each issuance once. It stops with an error (and no partial list) if any page fails. When the upstream's
// pagination never ends (a cursor comes back, or a page brings no issuance not listed before)
// it returns what was listed with an error wrapping ErrIncomplete.
func (c *Client) AllIssuances(ctx context.Context) ([]registry.Issuance, error) {
	return collectPages(ctx, "/issuances", func(v registry.Issuance) string { return v.ID }, func(ctx context.Context, after string) (*registry.Page[registry.Issuance], error) {
		return c.Issuances(ctx, registry.MaxPageSize, after)
	})
}

// Issuance fetches one issuance: GET /issuances/{id}.
func (c *Client) Issuance(ctx context.Context, id string) (*registry.Issuance, error) {
	if err := registry.ValidateID(registry.PrefixIssuance, id); err != nil {
		return nil, err
	}
	var v registry.Issuance
	if err := c.get(ctx, "/issuances/{id}", "/issuances/"+id, nil, &v); err != nil {
		return nil, err
	}
	if v.NotAnObject() {
		return nil, &registry.APIError{Kind: registry.ErrUnavailable, Endpoint: "/issuances/{id}", Path: "/issuances/" + id,
			Status: 200, Message: "the answer could not be decoded: the record is not a JSON object", Attempts: 1}
	}
	return &v, nil
}

// IssuanceCreditBatches fetches the root batches an issuance created, as they are now (some may
// be split): GET /issuances/{id}/credit_batches.
func (c *Client) IssuanceCreditBatches(ctx context.Context, id string) (*registry.IssuanceCreditBatches, error) {
	if err := registry.ValidateID(registry.PrefixIssuance, id); err != nil {
		return nil, err
	}
	var v registry.IssuanceCreditBatches
	if err := c.get(ctx, "/issuances/{id}/credit_batches", "/issuances/"+id+"/credit_batches", nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Retirement fetches one retirement: GET /retirements/{id}.
func (c *Client) Retirement(ctx context.Context, id string) (*registry.Retirement, error) {
	if err := registry.ValidateID(registry.PrefixRetirement, id); err != nil {
		return nil, err
	}
	var v registry.Retirement
	if err := c.get(ctx, "/retirements/{id}", "/retirements/"+id, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// RetirementCreditBatches fetches the batches a retirement retired:
// GET /retirements/{id}/credit_batches.
func (c *Client) RetirementCreditBatches(ctx context.Context, id string) (*registry.List[registry.CreditBatch], error) {
	if err := registry.ValidateID(registry.PrefixRetirement, id); err != nil {
		return nil, err
	}
	var v registry.List[registry.CreditBatch]
	if err := c.get(ctx, "/retirements/{id}/credit_batches", "/retirements/"+id+"/credit_batches", nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// DeliveryCreditBatches fetches the batches a delivery delivered, those split since included
// (not their halves): GET /deliveries/{id}/credit_batches, one list, no pagination.
func (c *Client) DeliveryCreditBatches(ctx context.Context, id string) (*registry.List[registry.CreditBatch], error) {
	if err := registry.ValidateID(registry.PrefixDelivery, id); err != nil {
		return nil, err
	}
	var v registry.List[registry.CreditBatch]
	if err := c.get(ctx, "/deliveries/{id}/credit_batches", "/deliveries/"+id+"/credit_batches", nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// OrganisationBatchFilter narrows GET /organisations/{id}/credit_batches (see
// registry.OrganisationBatchFilter, where it lives so that lineage can name it).
type OrganisationBatchFilter = registry.OrganisationBatchFilter

// OrganisationCreditBatches fetches one page of the batches an organisation owns or retired:
// GET /organisations/{id}/credit_batches with the filter's query parameters.
func (c *Client) OrganisationCreditBatches(ctx context.Context, orgID string, f OrganisationBatchFilter, first int, after string) (*registry.Page[registry.CreditBatch], error) {
	if err := registry.ValidateID(registry.PrefixOrganisation, orgID); err != nil {
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
	var p registry.Page[registry.CreditBatch]
	if err := c.get(ctx, "/organisations/{id}/credit_batches", "/organisations/"+orgID+"/credit_batches", q, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// AllOrganisationCreditBatches fetches every page of OrganisationCreditBatches, and stops as
// AllIssuances does when the pagination never ends.
func (c *Client) AllOrganisationCreditBatches(ctx context.Context, orgID string, f OrganisationBatchFilter) ([]registry.CreditBatch, error) {
	return collectPages(ctx, "/organisations/{id}/credit_batches", func(v registry.CreditBatch) string { return v.ID }, func(ctx context.Context, after string) (*registry.Page[registry.CreditBatch], error) {
		return c.OrganisationCreditBatches(ctx, orgID, f, registry.MaxPageSize, after)
	})
}

// OrganisationBatches is one page of OrganisationCreditBatches with only a status filter (empty:
// the upstream's default, every status but split), oldest issued first: the shape
// lineage.DirectorySource asks for, without this package's filter type.
func (c *Client) OrganisationBatches(ctx context.Context, orgID string, statuses []registry.Status, first int, after string) (*registry.Page[registry.CreditBatch], error) {
	return c.OrganisationCreditBatches(ctx, orgID, OrganisationBatchFilter{Statuses: statuses}, first, after)
}

// Organisation fetches one organisation: GET /organisations/{id}. The route may answer null
// for an id it does not know; that is ErrNotFound, as a 404 is.
func (c *Client) Organisation(ctx context.Context, id string) (*registry.Organisation, error) {
	if err := registry.ValidateID(registry.PrefixOrganisation, id); err != nil {
		return nil, err
	}
	var v *registry.Organisation
	if err := c.get(ctx, "/organisations/{id}", "/organisations/"+id, nil, &v); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nullAnswer("/organisations/{id}", "/organisations/"+id)
	}
	return v, nil
}

// OrganisationCreditBalance fetches what an organisation holds and has retired, in kg:
// GET /organisations/{id}/credit_balance.
func (c *Client) OrganisationCreditBalance(ctx context.Context, id string) (*registry.OrganisationCreditBalance, error) {
	if err := registry.ValidateID(registry.PrefixOrganisation, id); err != nil {
		return nil, err
	}
	var v registry.OrganisationCreditBalance
	if err := c.get(ctx, "/organisations/{id}/credit_balance", "/organisations/"+id+"/credit_balance", nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Project fetches one project: GET /projects/{id}. A null answer is ErrNotFound.
func (c *Client) Project(ctx context.Context, id string) (*registry.Project, error) {
	if err := registry.ValidateID(registry.PrefixProject, id); err != nil {
		return nil, err
	}
	var v *registry.Project
	if err := c.get(ctx, "/projects/{id}", "/projects/"+id, nil, &v); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nullAnswer("/projects/{id}", "/projects/"+id)
	}
	return v, nil
}

// SupplierIssuances fetches one page of a supplier's issuances (of all its projects):
// GET /suppliers/{id}/issuances?first=&after=.
func (c *Client) SupplierIssuances(ctx context.Context, supplierID string, first int, after string) (*registry.Page[registry.Issuance], error) {
	if err := registry.ValidateID(registry.PrefixSupplier, supplierID); err != nil {
		return nil, err
	}
	var p registry.Page[registry.Issuance]
	if err := c.get(ctx, "/suppliers/{id}/issuances", "/suppliers/"+supplierID+"/issuances", pageQuery(first, after), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// nullAnswer is the error of a route that answered 200 with null (the description allows it
// for a few lookups): the object is not there, as with a 404.
func nullAnswer(endpoint, path string) error {
	return &registry.APIError{Kind: registry.ErrNotFound, Endpoint: endpoint, Path: path, Status: http.StatusOK,
		Message: "the registry answered null", Attempts: 1}
}

// Ping checks that the upstream answers and accepts the credentials, with the cheapest call
// there is (one issuance). It returns nil or the client's usual errors.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.Issuances(ctx, 1, "")
	return err
}

func pageQuery(first int, after string) url.Values {
	q := url.Values{}
	q.Set("first", strconv.Itoa(min(max(first, 1), registry.MaxPageSize)))
	if after != "" {
		q.Set("after", after)
	}
	return q
}

func collectPages[T any](ctx context.Context, endpoint string, id func(T) string, page func(context.Context, string) (*registry.Page[T], error)) ([]T, error) {
	var all []T
	var loop registry.PageLoop
	listed := map[string]bool{}
	after := ""
	for {
		p, err := page(ctx, after)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(p.Nodes))
		for i, v := range p.Nodes {
			ids[i] = id(v)
			// An item listed first pushes the others one place on: one may come twice.
			if !listed[ids[i]] {
				listed[ids[i]] = true
				all = append(all, v)
			}
		}
		next, done, err := loop.Next(endpoint, ids, p.PageInfo)
		if done {
			return all, err
		}
		after = next
	}
}
