package handlers

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/singleflight"
)

// healthz is GET /healthz: the process is up and serving. It asks nothing of the registry.
func (s *server) healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.String(http.StatusOK, "ok\n")
}

// readyz is GET /readyz: the registry answers and accepts the configured credentials. The
// answer is reused for a few seconds so that frequent probes cost one upstream call.
func (s *server) readyz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	// The shared tier is an optimisation: when it is down the replica still serves (from memory
	// and the upstream), so it is reported, never a reason to be taken out of rotation.
	detail := ""
	if configured, err := s.explorer.SharedHealth(c.Request.Context()); configured {
		detail = "shared cache: ok\n"
		if err != nil {
			// Health says "degraded: shared cache <where>: why"; say the subject once.
			detail = "shared cache: degraded: " + strings.TrimPrefix(strings.TrimPrefix(err.Error(), "degraded: "), "shared cache ") + "\n"
		}
	}
	// Like the shared tier, an incomplete serial index degrades one feature: reported, and the
	// replica stays in rotation (every replica reads the same registry listing).
	if st := s.explorer.SerialIndex().Status(); st.Degraded != "" {
		detail += "serial index: degraded: the registry's listing of issuances never ends, so some serials cannot be resolved\n"
	}
	// The history journal is a feature, like the serial index: when its database fails, pages
	// go on without it, so it is reported and the replica stays in rotation.
	detail += s.historyHealth(c.Request.Context())
	if err := s.ready.check(c.Request.Context()); err != nil {
		c.String(http.StatusServiceUnavailable, "not ready: %s\n%s", readinessReason(err), detail)
		return
	}
	c.String(http.StatusOK, "ready\n%s", detail)
}

// readinessReason names why the registry is not usable, in our own words (never upstream text).
func readinessReason(err error) string {
	if _, c := class(err); c.reason != "" {
		return c.reason
	}
	return errClasses[kindUnavailable].reason
}

// readiness caches the outcome of the last upstream ping for ttl.
type readiness struct {
	ping func(context.Context) error
	ttl  time.Duration
	sf   singleflight.Group

	mu      sync.Mutex
	checked time.Time
	err     error
}

func (r *readiness) check(ctx context.Context) error {
	r.mu.Lock()
	if !r.checked.IsZero() && time.Since(r.checked) < r.ttl {
		err := r.err
		r.mu.Unlock()
		return err
	}
	r.mu.Unlock()
	ch := r.sf.DoChan("ping", func() (any, error) {
		// Detached from the probe's context so that an impatient probe does not poison the
		// shared answer; bounded on its own.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err := r.ping(pctx)
		r.mu.Lock()
		r.checked, r.err = time.Now(), err
		r.mu.Unlock()
		return nil, err
	})
	select {
	case res := <-ch:
		return res.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}
