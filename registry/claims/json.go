package claims

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// FromJSON reads a list from a JSON array (POST /api/v1/claims) of strings (identifiers) or of objects (columns by name),
// numbers kept as their literal text so that kg past 2^53 stay exact.
func FromJSON(data []byte, lim Limits) (*List, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var items []json.RawMessage
	if err := dec.Decode(&items); err != nil {
		return nil, err
	}
	if lim.MaxRows > 0 && len(items) > lim.MaxRows {
		return FromRecords(make([][]string, len(items)), ",", lim) // the limit's own error
	}
	var header []string
	col := map[string]int{}
	cell := func(row []string, k, v string) []string {
		i, ok := col[k]
		if !ok {
			i = len(header)
			col[k] = i
			header = append(header, k)
		}
		return setCell(row, i, v)
	}
	rows := make([][]string, 0, len(items))
	for _, raw := range items {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			// A bare identifier: under "id", read by its shape like any identifier column.
			rows = append(rows, cell(nil, "id", s))
			continue
		}
		obj := map[string]json.RawMessage{}
		d := json.NewDecoder(strings.NewReader(string(raw)))
		d.UseNumber()
		if err := d.Decode(&obj); err != nil {
			// Neither an identifier nor an object (a number, null, an array): a row of its
			// own, which its verdict calls malformed, never a failed list.
			rows = append(rows, cell(nil, "id", jsonText(raw)))
			continue
		}
		keys := slices.Sorted(maps.Keys(obj))
		var row []string
		for _, k := range keys {
			row = cell(row, k, jsonText(obj[k]))
		}
		rows = append(rows, row)
	}
	// The objects' keys are the list's header, recognised or not: a key is never a claim.
	roles, _ := headerRoles(header)
	if len(roles) != len(header) {
		roles = make([]Role, len(header))
	}
	l := &List{Sep: ",", Header: header, Roles: roles}
	if header == nil {
		l.Header = []string{}
	}
	return l.read(rows, lim)
}

func setCell(row []string, i int, v string) []string {
	for len(row) <= i {
		row = append(row, "")
	}
	row[i] = v
	return row
}

// jsonText is a JSON value as cell text: a string's content, a number's literal digits.
func jsonText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	t := strings.TrimSpace(string(v))
	if t == "null" {
		return ""
	}
	return t
}
