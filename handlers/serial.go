package handlers

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/views"
)

// serial is GET /serial/{serial}. Resolving a serial number to its batch is not built yet: a
// well-formed serial gets a clear "not yet" page (501) rather than a guess, a malformed one
// the usual 400 page.
func (s *server) serial(c *gin.Context) error {
	raw := c.Param("serial")
	serial, ok := parseSerial(trimQuery(raw))
	if !ok {
		return &lookupError{what: "serial number", value: raw,
			err: fmt.Errorf("%w: not a serial number", registry.ErrInvalid)}
	}
	p := views.NotYetPage{Base: s.base("Serial " + serial), Value: serial,
		Heading: "Serial number lookup is not available yet",
		Message: "This version of the explorer cannot yet find the batch that holds a serial number, and it will not guess. " +
			"Search by the credit batch id instead: the registry shows it next to the serial number."}
	s.render(c, http.StatusNotImplemented, views.NotYet(p))
	return nil
}
