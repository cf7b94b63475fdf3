package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/views"
)

// homeReadyWait bounds how long the home page waits for a readiness check in flight. The
// check itself is not cut short (it is shared and fills the cache), so a slow registry only
// delays its notice to a later view instead of holding up the search box.
const homeReadyWait = 1500 * time.Millisecond

// home is GET /: the search box and a short guide.
func (s *server) home(c *gin.Context) error {
	p := views.HomePage{Base: s.base("Find a credit batch"), ExampleID: registry.ExampleID(registry.PrefixCreditBatch),
		ExampleSerial: registry.ExampleSerial, Examples: s.examples}
	p.HideSearch = true
	p.ClaimsSample = s.claims.cfg.Sample != ""
	if s.demoChanges > 0 {
		p.DemoChangeEvery = views.FormatInterval(s.demoChanges)
	}
	p.Registry = s.registryState(c.Request.Context())
	c.Header("Cache-Control", "no-cache") // the registry notice is of the moment
	s.render(c, http.StatusOK, views.Home(p))
	return nil
}

// registryState is what the readiness cache says of the registry. It goes through the same
// cache as /readyz, so home-page views add no upstream call beyond one per cache period.
func (s *server) registryState(ctx context.Context) views.RegistryState {
	wctx, cancel := context.WithTimeout(ctx, homeReadyWait)
	defer cancel()
	err := s.ready.check(wctx)
	switch {
	case err == nil:
		return views.RegistryOK
	case wctx.Err() != nil:
		// Our own wait ran out (or the browser left): nothing is known yet, and a guess would
		// alarm for no reason.
		return views.RegistryOK
	case classify(err) == kindCredentials:
		return views.RegistryCredentials
	case classify(err) == kindThrottled:
		return views.RegistryThrottled
	}
	return views.RegistryUnreachable
}
