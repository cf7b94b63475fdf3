package handlers

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func TestLargePagesAreCompressedWhenAsked(t *testing.T) {
	a := newApp(t, appOptions{})
	big, _ := a.reg.Batch(a.fx.BigKgRoot)
	// A page, and the JSON of an organisation's and an issuance's report, which run to megabytes.
	for _, path := range []string{"/batches/" + a.fx.WideRoot, "/api/v1/organisations/" + big.Owner.ID, "/api/v1/issuances/" + a.fx.Issuance} {
		plain := a.get(t, path)
		req, _ := http.NewRequest(http.MethodGet, a.url+path, nil)
		req.Header.Set("Accept-Encoding", "br, gzip;q=0.8")
		resp, err := a.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: Content-Encoding = %q", path, resp.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(path, "/api/"):
			// A report is built again for each request, with the time it was built in it.
			if !json.Valid(b) || len(b) < len(plain.body)-100 || len(b) > len(plain.body)+100 {
				t.Errorf("%s: the compressed answer (%d bytes) is not the plain one's JSON (%d bytes)", path, len(b), len(plain.body))
			}
		case string(b) != plain.body:
			t.Errorf("%s: the compressed answer differs from the plain one", path)
		}
		if cl, _ := strconv.Atoi(resp.Header.Get("Content-Length")); cl == 0 || cl >= len(plain.body) {
			t.Errorf("%s: compressed Content-Length %d, plain %d", path, cl, len(plain.body))
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{"": false, "gzip": true, "GZIP": true, "deflate, gzip;q=0.5": true,
		"gzip;q=0": false, "gzip; q=0.000": false, "br": false, "x-gzip": false} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v", h, got)
		}
	}
}
