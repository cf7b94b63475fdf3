package handlers

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/static"
)

// static serves the embedded assets under /static/. An asset asked for with the build's
// version (as pages do) is cached for a year; without it, revalidated every time.
func (s *server) static() gin.HandlerFunc {
	files := http.StripPrefix(s.basePath+"/static/", http.FileServerFS(static.FS))
	return func(c *gin.Context) {
		name := strings.TrimPrefix(c.Param("file"), "/")
		if name == "" || strings.HasSuffix(name, "/") {
			s.fail(c, errRouteNotFound) // no directory listings
			return
		}
		if c.Query("v") == static.Version {
			c.Header("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			c.Header("Cache-Control", "no-cache")
		}
		files.ServeHTTP(c.Writer, c.Request)
	}
}
