package demo

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
)

// EditRecords wraps a registry handler (the demo's, typically) so that every JSON object with an
// "id" member in its 200 answers, at any depth (a batch, a list's elements, an issuance), is
// passed to edit before the answer is sent, numbers kept as their exact text. It is how tests
// and trials give the demo registry the values real registries send now and then (a date
// that is no date, a size in quotes, a name with control characters) without a fixture each.
func EditRecords(next http.Handler, edit func(rec map[string]any)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			var v any
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if dec.Decode(&v) == nil {
				walkRecords(v, edit)
				if b, err := marshal(v); err == nil {
					body = b
				}
			}
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

func walkRecords(v any, edit func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			walkRecords(x, edit)
		}
		if _, ok := v["id"]; ok {
			edit(v)
		}
	case []any:
		for _, x := range v {
			walkRecords(x, edit)
		}
	}
}
