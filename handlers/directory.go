package handlers

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/views"
)

// directoryID reads and checks the route's :id for a project or organisation page; a malformed
// one is a 400 with nothing sent upstream.
func directoryID(c *gin.Context, what, prefix string) (string, error) {
	id, err := registry.CanonicalID(prefix, c.Param("id"))
	if err != nil {
		return "", &lookupError{what: what, value: c.Param("id"), err: err}
	}
	return id, nil
}

// project is GET /projects/{id}: the project's record and its issuances with their totals,
// checked against the project's own (lineage.Explorer.ProjectReport).
func (s *server) project(c *gin.Context) error {
	id, err := directoryID(c, "project", registry.PrefixProject)
	if err != nil {
		return err
	}
	if id != strings.TrimSpace(c.Param("id")) {
		// Typed in lower case or full-width forms: the same id, at its page's own address.
		c.Redirect(http.StatusMovedPermanently, s.canonical(c, views.ProjectURL(id)))
		return nil
	}
	if link := "The project’s page as it is now, from which the lineage page of each batch opens"; s.refuseDay(c, "as_of", false, "the project page", views.ProjectURL(id), link) ||
		s.refuseDay(c, "since", false, "the project page", views.ProjectURL(id), link) {
		return nil
	}
	r, err := s.explorer.ProjectReport(c.Request.Context(), id)
	if err != nil {
		return &lookupError{what: "project", value: id, retry: views.ProjectURL(id), err: err}
	}
	s.render(c, http.StatusOK, views.Project(views.NewProjectPage(s.base("Project "+id), r)))
	return nil
}

// projectJSON is GET /api/v1/projects/{id}: the project's report as JSON.
func (s *server) projectJSON(c *gin.Context) error {
	id, err := directoryID(c, "project", registry.PrefixProject)
	if err != nil {
		return err
	}
	if s.refuseDay(c, "as_of", true, "the project", "", "") || s.refuseDay(c, "since", true, "the project", "", "") {
		return nil
	}
	r, err := s.explorer.ProjectReport(c.Request.Context(), id)
	if err != nil {
		return &lookupError{what: "project", value: id, err: err}
	}
	s.writeJSON(c, http.StatusOK, r)
	return nil
}

// organisation is GET /organisations/{id}: what the organisation holds and what was retired by
// it or for it, its balance checked against its batches (lineage.Explorer.OrganisationReport).
// ?sort= orders the holdings table (views.NewBatchTable).
func (s *server) organisation(c *gin.Context) error {
	id, err := directoryID(c, "organisation", registry.PrefixOrganisation)
	if err != nil {
		return err
	}
	if id != strings.TrimSpace(c.Param("id")) {
		// Typed in lower case or full-width forms: the same id, at its page's own address.
		c.Redirect(http.StatusMovedPermanently, s.canonical(c, views.OrganisationURL(id)))
		return nil
	}
	if link := "The organisation’s page as it is now, from which the lineage page of each batch opens"; s.refuseDay(c, "as_of", false, "the organisation page", views.OrganisationURL(id), link) ||
		s.refuseDay(c, "since", false, "the organisation page", views.OrganisationURL(id), link) {
		return nil
	}
	r, err := s.explorer.OrganisationReport(c.Request.Context(), id)
	if err != nil {
		return &lookupError{what: "organisation", value: id, retry: views.OrganisationURL(id), err: err}
	}
	s.render(c, http.StatusOK, views.Organisation(views.NewOrganisationPage(s.base("Organisation "+id), r, c.Query("sort"))))
	return nil
}

// organisationJSON is GET /api/v1/organisations/{id}: the organisation's report as JSON.
func (s *server) organisationJSON(c *gin.Context) error {
	id, err := directoryID(c, "organisation", registry.PrefixOrganisation)
	if err != nil {
		return err
	}
	if s.refuseDay(c, "as_of", true, "the organisation", "", "") || s.refuseDay(c, "since", true, "the organisation", "", "") {
		return nil
	}
	r, err := s.explorer.OrganisationReport(c.Request.Context(), id)
	if err != nil {
		return &lookupError{what: "organisation", value: id, err: err}
	}
	s.writeJSON(c, http.StatusOK, r)
	return nil
}
