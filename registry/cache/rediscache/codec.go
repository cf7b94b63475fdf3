package rediscache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/cache"
)

// The value stored under a batch key (format of SchemaVersion 1) is one tag byte and a body:
//
//	'b' + JSON     a credit batch: registry.CreditBatch's own JSON with every member whose
//	               value is null, "" or false dropped (its decoding reads them back as zero)
//	'n'            the upstream answered 404 for the id
//
// JSON because CreditBatch's marshalling already round-trips exactly (credit_kgs is an int64
// written as a JSON integer and decoded straight into int64, never through float64; timestamps
// keep their precision) and stays right when fields are added to CreditBatch, which a
// hand-written binary layout would silently drop; and a value stays readable with redis-cli.
// Dropping empty members takes the demo's batches from 838 bytes of JSON on average to 757
// (what remains is ids, names and timestamps; compression would save perhaps a third more, at
// the cost of that readability, and is left out). A value that does not decode, or names
// another batch, is treated as absent, never misread.
const (
	tagBatch    = 'b'
	tagNotFound = 'n'
)

var errUnreadable = errors.New("unreadable shared cache value")

func encodeBatch(b *registry.CreditBatch) ([]byte, error) {
	full, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	compact, err := dropEmpty(full)
	if err != nil {
		return nil, err
	}
	return append([]byte{tagBatch}, compact...), nil
}

func decodeEntry(id string, v []byte) (*cache.SharedEntry, error) {
	switch {
	case len(v) == 1 && v[0] == tagNotFound:
		return &cache.SharedEntry{}, nil
	case len(v) > 1 && v[0] == tagBatch:
		var b registry.CreditBatch
		if err := json.Unmarshal(v[1:], &b); err != nil {
			return nil, fmt.Errorf("%w: %v", errUnreadable, err)
		}
		if b.ID != id {
			return nil, fmt.Errorf("%w: it holds batch %q, not %q", errUnreadable, b.ID, id)
		}
		return &cache.SharedEntry{Batch: &b}, nil
	}
	return nil, errUnreadable
}

// dropEmpty removes members whose value is null, "" or false from a JSON object and the
// objects nested in it. Values are kept as raw bytes, so numbers are never re-encoded.
// Empty objects stay: a nil *Organisation and a pointer to an empty one must stay distinct.
func dropEmpty(obj []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, err
	}
	for k, v := range m {
		switch {
		case bytes.Equal(v, []byte("null")), bytes.Equal(v, []byte(`""`)), bytes.Equal(v, []byte("false")):
			delete(m, k)
		case len(v) > 0 && v[0] == '{':
			inner, err := dropEmpty(v)
			if err != nil {
				return nil, err
			}
			m[k] = inner
		}
	}
	return json.Marshal(m)
}
