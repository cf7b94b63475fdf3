package views

import (
	"context"
	"strings"

	"github.com/a-h/templ"
)

type basePathKey struct{}

// WithBasePath returns ctx carrying the path prefix the app is served under (BASE_PATH, such as
// "/lineage"; "" at the root). Handlers set it once per request, so that every view builds its
// links under it without each page model carrying it.
func WithBasePath(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, basePathKey{}, base)
}

// BasePath is the prefix WithBasePath attached to ctx, or "" when there is none.
func BasePath(ctx context.Context) string {
	b, _ := ctx.Value(basePathKey{}).(string)
	return b
}

// URL is path as the browser must ask for it: an app path ("/batches/…") gets the base path of
// ctx in front. Everything else is returned as is: fragments ("#audit"), absolute URLs (the
// registry's own pages) and protocol-relative ones, which never point into this app.
// Page models keep app paths, so that they do not depend on where the app is mounted; the
// prefix is added only where a URL leaves the server (views, Location headers, JSON).
func URL(ctx context.Context, path string) string {
	return JoinBase(BasePath(ctx), path)
}

// JoinBase puts base in front of the app path path (see URL); base is "" or a path with a
// leading and no trailing slash.
func JoinBase(base, path string) string {
	if base == "" || !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return path
	}
	return base + path
}

// safeURL is URL for an href: our own paths, built from escaped ids, so safe to link.
func safeURL(ctx context.Context, path string) templ.SafeURL {
	return templ.SafeURL(URL(ctx, path))
}
