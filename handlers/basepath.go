package handlers

import (
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/views"
)

// CleanBasePath checks a BASE_PATH value and returns it as the server uses it: "" for the root
// ("" or "/"), otherwise the prefix as given, such as "/lineage". It must start with "/", must
// not end with one, and may hold only letters, digits and - . _ ~ in segments that are neither
// empty nor "." or "..": it goes verbatim into links, Location headers and meta refresh URLs,
// so nothing in it may need escaping or change meaning when a browser resolves it.
func CleanBasePath(p string) (string, error) {
	if p == "" || p == "/" {
		return "", nil
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("must start with /, such as /lineage, got %q", p)
	}
	if strings.HasSuffix(p, "/") {
		return "", fmt.Errorf("must not end with /, such as /lineage, got %q", p)
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("must not hold empty, . or .. segments, got %q", p)
		}
		for _, r := range seg {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-._~", r)) {
				return "", fmt.Errorf("may hold only letters, digits, - . _ ~ and /, got %q", p)
			}
		}
	}
	return p, nil
}

// withBasePath hands the base path to the views through the request's context, for 404 pages
// and auth failures too, so that every link they render stays under it.
func (s *server) withBasePath(c *gin.Context) {
	if s.basePath != "" {
		c.Request = c.Request.WithContext(views.WithBasePath(c.Request.Context(), s.basePath))
	}
	c.Next()
}

// url is an app path ("/batches/…") as a client must ask for it: under the base path. Used
// where a URL leaves the server outside a view: Location headers and JSON.
func (s *server) url(path string) string { return views.JoinBase(s.basePath, path) }

// appPath is a request path without the base path, as the routes are named ("/healthz"), so
// that checks on paths read the same under any base path. A path outside the base path is
// returned as is.
func appPath(base, path string) string {
	if base == "" {
		return path
	}
	if rest, ok := strings.CutPrefix(path, base); ok && (rest == "" || rest[0] == '/') {
		return rest
	}
	return path
}
