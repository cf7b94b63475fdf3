package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// contentSecurityPolicy allows nothing but this origin's own files: no inline script or
// style, no framing. Pages are built to need nothing more.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	c.Next()
}

// logRequests writes one line per request. Probes are logged at debug level only, so that
// they do not drown the rest.
func (s *server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	level := slog.LevelInfo
	if p := appPath(s.basePath, c.Request.URL.Path); p == "/healthz" || p == "/readyz" || strings.HasPrefix(p, "/static/") {
		level = slog.LevelDebug
	}
	s.log.Log(c.Request.Context(), level, "request",
		"method", c.Request.Method, "path", c.Request.URL.Path, "status", c.Writer.Status(),
		"bytes", c.Writer.Size(), "duration", time.Since(start).Round(time.Microsecond).String(),
		"user", c.GetString(userKey), "request_id", c.GetString(requestIDKey), "client", c.ClientIP())
}

// recoverPanics turns a panic in a handler into a logged 500 page; the stack goes to the log,
// never to the page.
func (s *server) recoverPanics(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			panic(v) // net/http's way of dropping a connection: let it through
		}
		s.log.Error("panic", "path", c.Request.URL.Path, "panic", v, "stack", string(debug.Stack()))
		if c.Writer.Written() {
			c.Abort()
			return
		}
		h := c.Writer.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(s.fallback500)))
		h.Set("Cache-Control", "no-store")
		c.AbortWithStatus(http.StatusInternalServerError)
		_, _ = c.Writer.Write(s.fallback500)
	}()
	c.Next()
}

// requestIDKey is where requestID leaves the id for the access log.
const requestIDKey = "request_id"

// requestID gives every request an id, echoed in X-Request-Id and logged, so that a user's
// report and the log line meet. A proxy's id is kept when it looks like one (short, plain
// characters); anything else is replaced, so that log lines cannot be forged through it.
func requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if !plainToken(id) {
		var b [12]byte
		_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

func plainToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
