package handlers

import (
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"testing"
)

func TestLargePagesAreCompressedWhenAsked(t *testing.T) {
	a := newApp(t, appOptions{})
	path := "/batches/" + a.fx.WideRoot
	plain := a.get(t, path)
	req, _ := http.NewRequest(http.MethodGet, a.url+path, nil)
	req.Header.Set("Accept-Encoding", "br, gzip;q=0.8")
	resp, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != plain.body {
		t.Error("the compressed page differs from the plain one")
	}
	if cl, _ := strconv.Atoi(resp.Header.Get("Content-Length")); cl == 0 || cl >= len(plain.body) {
		t.Errorf("compressed Content-Length %d, plain %d", cl, len(plain.body))
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
