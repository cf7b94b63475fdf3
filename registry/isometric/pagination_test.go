package isometric_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
)

// issuancePage answers one page of GET /issuances holding ids, with the given end cursor and
// always a next page.
func issuancePage(w http.ResponseWriter, end string, ids ...int) {
	var nodes []string
	for _, i := range ids {
		nodes = append(nodes, fmt.Sprintf(`{"id":"iss_1%015d","project_id":"prj_1CTWZQGKE1S0VAXA","reporting_period_start_at":"2025-01-01","reporting_period_end_at":"2025-03-31","credit_batch_size_total":{"credit_kgs":1,"credits":0}}`, i))
	}
	jsonBody(w, 200, fmt.Sprintf(`{"nodes":[%s],"total_count":9,"page_info":{"has_previous_page":false,"start_cursor":null,"has_next_page":true,"end_cursor":%q}}`,
		strings.Join(nodes, ","), end))
}

// A listing whose upstream never says it is done stops at the first cursor it has seen before,
// or at a page that brings nothing new: a few requests, not MaxPages of them, and an error that
// says the listing is incomplete (never that the request was malformed).
func TestPaginationThatNeverEndsStops(t *testing.T) {
	cases := []struct {
		name string
		page func(w http.ResponseWriter, after string)
		want int // issuances listed before the loop was seen
	}{
		{"cursors cycle c1 → c2 → c1", func(w http.ResponseWriter, after string) {
			switch after {
			case "":
				issuancePage(w, "c1", 1, 2)
			case "c1":
				issuancePage(w, "c2", 3, 4)
			default:
				issuancePage(w, "c1", 5)
			}
		}, 5},
		{"new cursors, the same issuances", func(w http.ResponseWriter, after string) {
			issuancePage(w, "c"+after, 1, 2)
		}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var sent atomic.Int64
			c, hits := upstream(t, func(w http.ResponseWriter, r *http.Request) {
				if sent.Add(1) > 10 {
					jsonBody(w, 404, `{"detail":"stop"}`) // the loop was not seen: end the test
					return
				}
				tc.page(w, r.URL.Query().Get("after"))
			})
			all, err := c.AllIssuances(context.Background())
			if !errors.Is(err, registry.ErrIncomplete) || errors.Is(err, registry.ErrInvalid) {
				t.Fatalf("err = %v, want ErrIncomplete", err)
			}
			if !strings.Contains(err.Error(), "/issuances") {
				t.Errorf("%q does not name the endpoint", err)
			}
			if len(all) != tc.want || hits.Load() > 3 {
				t.Errorf("%d issuances in %d requests, want the %d listed in at most 3", len(all), hits.Load(), tc.want)
			}
		})
	}
}
