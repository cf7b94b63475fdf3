package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

// serial is GET /serial/{serial}: it finds the batch of a serial number and redirects (303) to
// its lineage page. A serial that is no batch's own but lies inside one leads to the smallest
// batch that holds it, with ?serial= so that the page says so. Malformed: 400, nothing sent
// upstream; unknown: 404 naming the serial and how fresh the index of issuances is.
func (s *server) serial(c *gin.Context) error {
	res, err := s.resolveSerial(c)
	var dym *didYouMeanError
	if errors.As(err, &dym) {
		c.Header("Cache-Control", "no-store")
		s.render(c, http.StatusNotFound, views.SerialNotFound(s.base("Not found"), dym.suggestion))
		return nil
	}
	if err != nil {
		return err
	}
	if to, ok := s.keepDays(c, serialTarget(res)); ok {
		c.Redirect(http.StatusSeeOther, to)
	}
	return nil
}

// serialJSON is GET /api/v1/serial/{serial}: the resolution as JSON (lineage.Resolution plus
// the page it leads to), with the statuses of the page route.
func (s *server) serialJSON(c *gin.Context) error {
	res, err := s.resolveSerial(c)
	if err != nil {
		return err
	}
	s.writeJSON(c, http.StatusOK, struct {
		lineage.Resolution
		URL string `json:"url"` // the lineage page the HTML route redirects to
	}{res, s.url(serialTarget(res))})
	return nil
}

// resolveSerial resolves the route's :serial; errors name the serial as asked (malformed) or in
// canonical form (unknown), and offer a retry when the registry failed.
func (s *server) resolveSerial(c *gin.Context) (lineage.Resolution, error) {
	raw := c.Param("serial")
	res, err := s.explorer.ResolveSerial(c.Request.Context(), raw)
	if err == nil {
		return res, nil
	}
	le := &lookupError{what: "serial number", value: trimQuery(raw), err: err}
	var snf *lineage.SerialNotFoundError
	switch {
	case errors.As(err, &snf):
		le.value = snf.Serial.String()
		if sg, ok := s.suggestSerial(c.Request.Context(), snf.Serial); ok {
			return res, &didYouMeanError{lookupError: le, suggestion: sg}
		}
	case errors.Is(err, registry.ErrInvalid):
	default:
		if p, perr := registry.ParseSerial(raw); perr == nil {
			le.value = p.String()
			le.retry = views.SerialURL(le.value)
		}
	}
	return res, le
}

// serialTarget is the lineage page a resolution leads to.
func serialTarget(res lineage.Resolution) string {
	if res.Exact {
		return views.BatchURL(res.BatchID)
	}
	return views.BatchWithinURL(res.BatchID, res.Serial.String())
}

// withinNotice is the lineage page's notice for ?serial= (set by a serial lookup that found the
// range inside the batch), or nil when there is none or it is not true of this tree.
func withinNotice(tree *lineage.Tree, asked *registry.Serial) *views.SerialNotice {
	if asked == nil {
		return nil
	}
	return views.NewSerialNotice(tree, *asked)
}

// askedSerial is the page's ?serial=, or nil when there is none or it does not parse (the
// page is then shown without the notice).
func askedSerial(c *gin.Context) *registry.Serial {
	raw := c.Query("serial")
	if raw == "" {
		return nil
	}
	asked, err := registry.ParseSerial(raw)
	if err != nil {
		return nil
	}
	return &asked
}

// batchPageURL is the lineage page of id as the request asked for it: with its ?serial=, so
// that a progress page's reloads keep the notice.
func batchPageURL(c *gin.Context, id string) string {
	if asked, err := registry.ParseSerial(c.Query("serial")); c.Query("serial") != "" && err == nil {
		return views.BatchWithinURL(id, asked.String())
	}
	return views.BatchURL(id)
}

// didYouMeanError is a serial number no batch holds that misses one batch by a unit: a 404
// like any unknown serial, whose page offers that batch.
type didYouMeanError struct {
	*lookupError
	suggestion views.SerialSuggestion
}

// Unwrap gives the lookup error, and through it the not-found cause.
func (e *didYouMeanError) Unwrap() error { return e.lookupError }

// suggestSerial looks for the batch a serial number no batch holds most likely meant: the one
// whose range differs by one unit at one end, or is shifted by one (views.SerialOffByOne), as
// when its end was read as included. Only an exact match counts; at most four lookups, each
// through the serial index.
func (s *server) suggestSerial(ctx context.Context, asked registry.Serial) (views.SerialSuggestion, bool) {
	for _, d := range [][2]int64{{1, 0}, {0, -1}, {1, 1}, {-1, -1}} {
		v := asked
		v.First, v.Last = asked.First+d[0], asked.Last+d[1]
		if v.First < 0 || v.Last <= v.First {
			continue
		}
		res, err := s.explorer.ResolveSerial(ctx, v.String())
		if err == nil && res.Exact {
			return views.SerialSuggestion{Asked: asked.String(), BatchID: res.BatchID, Serial: res.BatchSerial.String(),
				URL: views.BatchURL(res.BatchID), NotFound: true}, true
		}
	}
	return views.SerialSuggestion{}, false
}
