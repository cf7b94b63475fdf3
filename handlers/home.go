package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/views"
)

// home is GET /: the search box and a short guide.
func (s *server) home(c *gin.Context) error {
	p := views.HomePage{Base: s.base("Search"), ExampleID: registry.ExampleID(registry.PrefixCreditBatch),
		ExampleSerial: registry.ExampleSerial, Examples: s.examples}
	p.HideSearch = true
	s.render(c, http.StatusOK, views.Home(p))
	return nil
}
