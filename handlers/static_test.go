package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/static"
)

func TestStaticAssets(t *testing.T) {
	a := newApp(t, appOptions{})
	r := a.get(t, "/static/style.css?v="+static.Version)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") {
		t.Fatalf("style.css: %d %q", r.status, r.header.Get("Content-Type"))
	}
	if !strings.Contains(r.header.Get("Cache-Control"), "immutable") {
		t.Errorf("versioned asset Cache-Control = %q", r.header.Get("Cache-Control"))
	}
	if r := a.get(t, "/static/app.js"); r.status != 200 || r.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("unversioned app.js: %d %q", r.status, r.header.Get("Cache-Control"))
	}
	for _, p := range []string{"/static/", "/static/nope.css", "/static/../main.go"} {
		if r := a.get(t, p); r.status != http.StatusNotFound && r.status != http.StatusMovedPermanently {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	// Every asset a page refers to is served.
	doc, _ := a.page(t, "/", 200)
	doc.Find("link[href], script[src], img[src]").Each(func(_ int, s *goquery.Selection) {
		u := s.AttrOr("href", s.AttrOr("src", ""))
		if r := a.get(t, u); r.status != 200 {
			t.Errorf("%s: %d", u, r.status)
		}
	})
}
