package registry

// Field-by-field decoding of the upstream's records. A registry that sends one value of an
// unexpected shape (a date that is no date, a size in quotes, a name that is a number) must not
// cost the whole record, let alone the list, tree or page it is part of: each member is decoded
// on its own; what cannot be read is kept exactly as sent and listed as an UnreadField, and the
// record's re-encoding (for the shared cache and the JSON for tools) writes it back as sent.

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"time"
)

// UnreadField is a member of an upstream record whose value could not be read as the type the
// explorer expects. The record keeps its zero value in that field (or, for a date, the text
// as sent: see Timestamp.Raw); Raw is the value exactly as sent.
type UnreadField struct {
	// Field is the member's JSON name, with its parent's for a nested one ("delivered_at",
	// "size.credit_kgs", "owner.name"); "" when the record itself is not a JSON object.
	Field string `json:"field"`
	// Raw is the value as sent, JSON text (`"not a date"`, `12`, `{}`). Untrusted.
	Raw string `json:"raw"`
	// Why says what it should have been, in words a page can show: "not a date".
	Why string `json:"why"`
}

// Text is the value as sent, for a page or a message: a JSON string's own text, else the JSON
// as sent, cut to a length fit for a message. Untrusted: render it escaped.
func (u UnreadField) Text() string { return rawText(u.Raw) }

// rawText is a JSON value as a person would read it: a string's content, else its JSON.
func rawText(raw string) string {
	var s string
	if json.Unmarshal([]byte(raw), &s) == nil {
		return TruncateForError(s)
	}
	return TruncateForError(raw)
}

// unreadable is implemented by the types that keep an unreadable value themselves (Timestamp,
// Date) instead of failing: the field decoder lists them like any other.
type unreadable interface {
	unreadRaw() (raw, why string)
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	numberType      = reflect.TypeFor[json.Number]()
)

// decodeRecord decodes a JSON object into the struct dst points to. The common case, a record
// whose every member has its type, takes encoding/json's own path (several times faster than
// member by member, which matters for a tree of 30,000 batches); the dates it could not read
// are then collected from the fields that kept them. Only when that fails is the record decoded
// member by member (decodeFields). ok is false when data is not a JSON object.
func decodeRecord(data []byte, dst reflect.Value) (unread []UnreadField, ok bool) {
	if b := bytes.TrimLeft(data, " \t\r\n"); len(b) == 0 || b[0] != '{' {
		return nil, false
	}
	if json.Unmarshal(data, dst.Addr().Interface()) == nil {
		collectUnread(dst, "", &unread)
		return unread, true
	}
	dst.SetZero()
	return unread, decodeFields(data, dst, "", &unread)
}

// collectUnread lists the fields of v (nested structs included) that kept a value they could
// not read (Timestamp, Date).
func collectUnread(v reflect.Value, prefix string, unread *[]UnreadField) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		f := v.Field(i)
		if sf.Anonymous && f.Kind() == reflect.Struct {
			collectUnread(f, prefix, unread) // an embedded struct's fields are the record's own
			continue
		}
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if u, ok := f.Addr().Interface().(unreadable); ok {
			if r, why := u.unreadRaw(); r != "" {
				*unread = append(*unread, UnreadField{Field: prefix + name, Raw: r, Why: why})
			}
			continue
		}
		switch {
		case f.Kind() == reflect.Struct:
			collectUnread(f, prefix+name+".", unread)
		case f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.Struct:
			collectUnread(f.Elem(), prefix+name+".", unread)
		}
	}
}

// decodeFields decodes a JSON object into the struct dst points to, member by member (by the
// fields' json names, as encoding/json would, but case-sensitively). Nested structs and
// pointers to structs are decoded the same way, so that a bad owner name costs the name, not
// the owner. Unknown members are ignored; null leaves a field zero (a pointer nil). It returns
// what could not be read; ok is false when data is not a JSON object at all.
func decodeFields(data []byte, dst reflect.Value, prefix string, unread *[]UnreadField) (ok bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return false
	}
	t := dst.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			decodeEmbedded(m, dst.Field(i), prefix, unread)
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		raw, present := m[name]
		if !present || bytes.Equal(raw, []byte("null")) {
			continue
		}
		decodeField(raw, dst.Field(i), prefix+name, unread)
	}
	return true
}

// decodeEmbedded decodes the members of an embedded struct from the object's members m.
func decodeEmbedded(m map[string]json.RawMessage, dst reflect.Value, prefix string, unread *[]UnreadField) {
	t := dst.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		if raw, ok := m[name]; ok && !bytes.Equal(raw, []byte("null")) {
			decodeField(raw, dst.Field(i), prefix+name, unread)
		}
	}
}

// decodeField decodes one member into v, recording it in unread when it cannot be read.
func decodeField(raw json.RawMessage, v reflect.Value, name string, unread *[]UnreadField) {
	ft := v.Type()
	switch {
	case ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(unmarshalerType):
		if !decodeFields(raw, v, name+".", unread) {
			*unread = append(*unread, UnreadField{Field: name, Raw: string(raw), Why: "not an object"})
		}
		return
	case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct && !ft.Implements(unmarshalerType):
		p := reflect.New(ft.Elem())
		if !decodeFields(raw, p.Elem(), name+".", unread) {
			*unread = append(*unread, UnreadField{Field: name, Raw: string(raw), Why: "not an object"})
			return
		}
		v.Set(p)
		return
	}
	if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
		v.SetZero()
		*unread = append(*unread, UnreadField{Field: name, Raw: string(raw), Why: whyUnread(ft)})
		return
	}
	if u, ok := v.Addr().Interface().(unreadable); ok {
		if r, why := u.unreadRaw(); r != "" {
			*unread = append(*unread, UnreadField{Field: name, Raw: r, Why: why})
		}
	}
}

// whyUnread is what a value of type t should have been, in words.
func whyUnread(t reflect.Type) string {
	switch {
	case t == numberType:
		return "not a number"
	case t.Kind() == reflect.String:
		return "not text"
	case t.Kind() == reflect.Int64, t.Kind() == reflect.Int:
		return "not a whole number"
	case t.Kind() == reflect.Bool:
		return "not true or false"
	case t.Kind() == reflect.Slice:
		return "not a list"
	}
	return "not of the expected type"
}

// spliceUnread puts the values as sent back into the JSON encoding of a record, in place of
// the zero values its unread fields were left with, so that what the explorer writes (the
// shared cache, the JSON for tools) keeps the registry's value. A record that was not an object
// is written back as sent.
func spliceUnread(out []byte, unread []UnreadField) ([]byte, error) {
	if len(unread) == 0 {
		return out, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(out, &m); err != nil {
		return out, nil // not an object: nothing to put back into
	}
	for _, u := range unread {
		if !json.Valid([]byte(u.Raw)) {
			continue // only a value decoded from JSON is ever written back
		}
		if u.Field == "" {
			return []byte(u.Raw), nil
		}
		setPath(m, strings.Split(u.Field, "."), json.RawMessage(u.Raw))
	}
	return json.Marshal(m)
}

func setPath(m map[string]json.RawMessage, path []string, v json.RawMessage) {
	if len(path) == 1 {
		m[path[0]] = v
		return
	}
	var inner map[string]json.RawMessage
	if json.Unmarshal(m[path[0]], &inner) != nil || inner == nil {
		return // the parent itself is unread and written back whole
	}
	setPath(inner, path[1:], v)
	if b, err := json.Marshal(inner); err == nil {
		m[path[0]] = b
	}
}

// parseDateTime reads an upstream date-time in any of timestampLayouts, in the zone it was
// written in.
func parseDateTime(s string) (time.Time, bool) {
	for _, layout := range timestampLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			return v, true
		}
	}
	return time.Time{}, false
}

// decodeDateText reads the JSON value of a date or date-time field: the string (ok), "" for
// null or "", or, when it is not a string or does not parse, unread = the JSON as sent.
func decodeDateText(b []byte) (t time.Time, unread string) {
	if bytes.Equal(b, []byte("null")) {
		return time.Time{}, ""
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return time.Time{}, string(b)
	}
	if s == "" {
		return time.Time{}, ""
	}
	v, ok := parseDateTime(s)
	if !ok {
		return time.Time{}, string(b)
	}
	return v, ""
}

// marshalRaw writes a value kept as sent; text that is not JSON (set by hand, never decoded)
// becomes a JSON string.
func marshalRaw(raw string) ([]byte, error) {
	if json.Valid([]byte(raw)) {
		return []byte(raw), nil
	}
	return json.Marshal(raw)
}
