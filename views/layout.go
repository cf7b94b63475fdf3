// Package views renders the explorer's pages with templ. Components take display-ready page
// models (strings already formatted, URLs already built); the converters in this package turn
// registry data into those models. Views never call the registry: they only read its types.
package views

import (
	"github.com/lineage-explorer/explorer/static"
)

// Base is what the layout of every page needs.
type Base struct {
	// Title is the page's own title; the layout appends the product name.
	Title string
	// Query pre-fills the search box in the page header (untrusted; rendered escaped).
	Query string
	// Demo marks pages served from the built-in demo registry with a banner.
	Demo bool
	// Refresh, when positive, makes the page reload itself after that many seconds (progress
	// pages), through a meta refresh so that no inline script is needed.
	Refresh int
	// RefreshURL is where the refresh goes; "" reloads the page itself.
	RefreshURL string
	// HideSearch leaves the search box out of the header (the home page has its own).
	HideSearch bool
	// Watching puts a link to the watch list (/watch) in the header: the explorer keeps
	// watch lists.
	Watching bool
}

// AssetURL is the URL of an embedded asset with the build's version, so that it can be cached
// for long and still change with a new build.
func AssetURL(name string) string { return "/static/" + name + "?v=" + static.Version }
