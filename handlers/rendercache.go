package handlers

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/gin-gonic/gin"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/sync/singleflight"

	"github.com/lineage-explorer/explorer/registry/lineage"
)

// DefaultRenderCacheBytes bounds the answers kept by the render cache when Config leaves it
// unset: 128 MiB holds the pages and exports of a few hundred typical trees, or of the
// demo's 30,001-batch tree several times over.
const DefaultRenderCacheBytes = 128 << 20

// rendered is one finished answer built from a finished walk, kept for reuse: a lineage page,
// a subtree fragment or an export. A walk's tree never changes once it is done, so neither
// does what is rendered from it.
type rendered struct {
	contentType string
	body        []byte
	gz          []byte // body gzip-compressed; nil when compressing would not pay
	etag        string // a strong validator of body; gz gets its own (see serve)
}

// size is what the entry costs the cache's byte budget.
func (r *rendered) size() int64 { return int64(len(r.body) + len(r.gz) + 128) }

// renderKey names one answer. The tree makes a new walk (a retry, or one after the finished
// walk was dropped) a new key. It is held weakly: a kept answer must not keep its tree (tens of
// MB for a large one) alive after the explorer has let go of it, and a weak pointer never
// equals one made from another tree, even at a reused address.
type renderKey struct {
	tree weak.Pointer[lineage.Tree]
	kind string // "page", "subtree", "json" or "csv"
	arg  string // what else the answer depends on: the node of a fragment, a page's serial
	user string // the signed-in user the layout names ("" for fragments and exports)
}

func newRenderKey(tree *lineage.Tree, kind, arg, user string) renderKey {
	return renderKey{tree: weak.Make(tree), kind: kind, arg: arg, user: user}
}

// renderCache keeps rendered answers of finished walks within a byte budget, least recently
// used first out. Before it, every request for a large tree re-rendered the page (a 3,001-batch
// page took about 19 ms of CPU with its compression) and re-encoded the export (1.9 MB, about
// as long), so two cores saturated at a few dozen concurrent users. Builds of the same answer
// are shared (singleflight), and at most GOMAXPROCS run at once so that a burst of distinct
// large answers queues instead of thrashing memory and the scheduler.
type renderCache struct {
	max    int64
	flight singleflight.Group
	slots  chan struct{}

	mu    sync.Mutex
	lru   *simplelru.LRU[renderKey, *rendered]
	bytes int64

	hits, misses, renders, evictions atomic.Int64
}

func newRenderCache(maxBytes int64) *renderCache {
	if maxBytes <= 0 {
		maxBytes = DefaultRenderCacheBytes
	}
	rc := &renderCache{max: maxBytes, slots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	// The count bound is never the one that bites: bytes are (see put).
	l, err := simplelru.NewLRU[renderKey, *rendered](1<<30, func(_ renderKey, r *rendered) {
		rc.bytes -= r.size()
		rc.evictions.Add(1)
	})
	if err != nil {
		panic(err) // only for a size ≤ 0
	}
	rc.lru = l
	return rc
}

// renderCacheStats are the render cache's counters since start.
type renderCacheStats struct {
	Hits, Misses, Renders, Evictions int64
	Entries                          int
	Bytes                            int64
}

func (rc *renderCache) stats() renderCacheStats {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return renderCacheStats{Hits: rc.hits.Load(), Misses: rc.misses.Load(), Renders: rc.renders.Load(), Evictions: rc.evictions.Load(),
		Entries: rc.lru.Len(), Bytes: rc.bytes}
}

func (rc *renderCache) lookup(k renderKey) (*rendered, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.lru.Get(k)
}

// put keeps r unless it alone would take more than a quarter of the budget (a huge tree's
// export): caching that would flush everything else for one answer.
func (rc *renderCache) put(k renderKey, r *rendered) {
	if r.size() > rc.max/4 {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if old, ok := rc.lru.Peek(k); ok {
		rc.bytes -= old.size()
	}
	rc.lru.Add(k, r)
	rc.bytes += r.size()
	// Answers of trees already collected can never be asked for again: they go first.
	for _, old := range rc.lru.Keys() {
		if old.tree.Value() == nil {
			rc.lru.Remove(old)
		}
	}
	for rc.bytes > rc.max && rc.lru.Len() > 0 {
		rc.lru.RemoveOldest()
	}
}

// get returns the answer for k, building it with build (which writes the body) when it is
// not kept, sharing a build under way for the same key. The build runs without ctx's
// cancellation, since other requests may be waiting for it; ctx only ends this request's wait.
// It returns build's error, or ctx's when the request ends first.
func (rc *renderCache) get(ctx context.Context, k renderKey, contentType string, build func(ctx context.Context, w io.Writer) error) (*rendered, error) {
	if r, ok := rc.lookup(k); ok {
		rc.hits.Add(1)
		return r, nil
	}
	rc.misses.Add(1)
	// The caller holds the tree (its build renders it), so its address names only that tree
	// for as long as the flight lasts.
	fk := fmt.Sprintf("%p\x00%s\x00%s\x00%s", k.tree.Value(), k.kind, k.arg, k.user)
	bctx := context.WithoutCancel(ctx)
	ch := rc.flight.DoChan(fk, func() (any, error) {
		if r, ok := rc.lookup(k); ok { // kept while this request queued for the flight
			return r, nil
		}
		rc.slots <- struct{}{}
		defer func() { <-rc.slots }()
		rc.renders.Add(1)
		r, err := newRendered(bctx, contentType, build)
		if err != nil {
			return nil, err
		}
		rc.put(k, r)
		return r, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*rendered), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// newRendered builds a body and compresses it once, at the default level: the time is spent
// once per tree, and the answer is smaller for every request after.
func newRendered(ctx context.Context, contentType string, build func(context.Context, io.Writer) error) (*rendered, error) {
	var buf bytes.Buffer
	if err := build(ctx, &buf); err != nil {
		return nil, err
	}
	r := &rendered{contentType: contentType, body: buf.Bytes()}
	sum := sha256.Sum256(r.body)
	r.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	if len(r.body) > 1<<10 {
		if z, ok := gzipped(r.body, gzip.DefaultCompression); ok && len(z) < len(r.body) {
			r.gz = z
		}
	}
	return r, nil
}

// serveRendered answers 200 with r, compressed when the client accepts gzip, or 304 when the
// client's copy is current (If-None-Match: a reload of an unchanged tree costs no body). The
// compressed form is another representation, so its validator differs. Pages name the
// signed-in user, so shared caches must not keep them; browsers revalidate every time.
// (http.ServeContent would do the 304, but it drops Content-Length from compressed answers.)
func serveRendered(c *gin.Context, r *rendered) {
	h := c.Writer.Header()
	h.Set("Content-Type", r.contentType)
	h.Add("Vary", "Accept-Encoding")
	h.Set("Cache-Control", "private, no-cache")
	body, etag := r.body, r.etag
	if r.gz != nil && acceptsGzip(c.GetHeader("Accept-Encoding")) {
		body, etag = r.gz, strings.TrimSuffix(r.etag, `"`)+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	if etagMatches(c.GetHeader("If-None-Match"), etag) {
		h.Del("Content-Type")
		h.Del("Content-Encoding")
		c.Status(http.StatusNotModified)
		c.Writer.WriteHeaderNow()
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.Status(http.StatusOK)
	_, _ = c.Writer.Write(body) // net/http drops it for HEAD
}

// etagMatches reports whether an If-None-Match value names etag, by the weak comparison
// RFC 9110 prescribes for it (a W/ prefix is ignored), or is "*".
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	if strings.TrimSpace(header) == "*" {
		return true
	}
	for _, tag := range strings.Split(header, ",") {
		if strings.TrimPrefix(strings.TrimSpace(tag), "W/") == etag {
			return true
		}
	}
	return false
}
