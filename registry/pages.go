package registry

import "fmt"

// MaxPages stops a paging loop whose upstream never says it is done: no listing of the
// registry is followed past this many pages.
const MaxPages = 100_000

// PageLoop tells whether one more page of a Relay listing is worth asking for: it stops a
// listing at the first cursor it has seen before or at a page that brings no item not listed
// before, which is how an upstream whose pagination never ends shows itself. The zero value is
// ready to use for one listing; it is not safe for concurrent use.
type PageLoop struct {
	cursors map[string]bool
	items   map[string]bool
	pages   int
}

// Next records a page (the ids of its items, its page info) and returns the cursor to ask for
// the next page with; done is true when there is none. err, wrapping ErrIncomplete and naming
// endpoint, says why a listing that claims more pages must stop: the cursor is empty or came
// back, the page brought nothing new, or there were more than MaxPages.
func (l *PageLoop) Next(endpoint string, ids []string, info PageInfo) (after string, done bool, err error) {
	if l.cursors == nil {
		l.cursors, l.items = map[string]bool{}, map[string]bool{}
	}
	l.pages++
	fresh := false
	for _, id := range ids {
		if !l.items[id] {
			l.items[id], fresh = true, true
		}
	}
	switch {
	case !info.HasNextPage:
		return "", true, nil
	case info.EndCursor == "":
		err = fmt.Errorf("%w: GET %s: page %d says there is another page but gives no cursor to it", ErrIncomplete, endpoint, l.pages)
	case l.cursors[info.EndCursor]:
		err = fmt.Errorf("%w: GET %s: page %d ends with a cursor an earlier page ended with", ErrIncomplete, endpoint, l.pages)
	case !fresh:
		err = fmt.Errorf("%w: GET %s: page %d brings nothing not listed before", ErrIncomplete, endpoint, l.pages)
	case l.pages >= MaxPages:
		err = fmt.Errorf("%w: GET %s: more than %d pages", ErrIncomplete, endpoint, MaxPages)
	}
	if err != nil {
		return "", true, err
	}
	l.cursors[info.EndCursor] = true
	return info.EndCursor, false, nil
}
