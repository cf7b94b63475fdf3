package registry_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
)

func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"ctb_1DRBTYA8Q1S07CBY", "ctb_", "", "ctb_1DRBTYA8Q1S07CB\x00", "iss_1EWT8R5FY1S0GFCY", "ctb_ÄÖÜ1DRBTYA8Q1S07CB", "../../etc/passwd",
		"ｃｔｂ＿１ＤＲＢＴＹＡ８Ｑ１Ｓ０７ＣＢＹ", "ctb_١DRBTYA8Q1S07CBY", "\u3000ctb_1DRBTYA8Q1S07CBY\u3000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		// What a person typed is folded first; whatever it gives is a valid id, or the error is
		// the validator's.
		if canon, err := registry.CanonicalID(registry.PrefixCreditBatch, id); err == nil {
			if registry.ValidateID(registry.PrefixCreditBatch, canon) != nil {
				t.Errorf("CanonicalID(%q) = %q, which is not valid", id, canon)
			}
		} else if !strings.Contains(err.Error(), registry.ExampleID(registry.PrefixCreditBatch)) {
			t.Errorf("CanonicalID(%q): the error does not show a valid id: %v", id, err)
		}
		err := registry.ValidateID(registry.PrefixCreditBatch, id)
		if err == nil {
			if canon, cerr := registry.CanonicalID(registry.PrefixCreditBatch, demo.FullWidth(id)); cerr != nil || canon != id {
				t.Errorf("the full-width form of %q gives %q, %v", id, canon, cerr)
			}
		}
		if err != nil {
			if !strings.Contains(err.Error(), registry.ExampleID(registry.PrefixCreditBatch)) {
				t.Errorf("the error does not show a valid id: %v", err)
			}
			return
		}
		// Whatever passes must be safe to put in a URL path as is.
		if len(id) < 20 || len(id) > 37 || !strings.HasPrefix(id, "ctb_") {
			t.Errorf("accepted %q", id)
		}
		for _, c := range id[4:] {
			if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
				t.Errorf("accepted %q with %q", id, c)
			}
		}
	})
}

func FuzzDecodeCreditBatch(f *testing.F) {
	f.Add([]byte(`{"id":"ctb_1DRBTYA8Q1S07CBY","size":{"credit_kgs":9007199254740993,"credits":1.5},"sequestered_at":"2024-01-01"}`))
	f.Add([]byte(`{"retired_at":"2024-01-22T11:56:48.520641Z","sequestered_on":null,"beneficiary":null}`))
	f.Add([]byte(`{"issued_at":"x","size":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"id":"ctb_1DRBTYA8Q1S07CBY","delivered_at":"not a date","size":{"credit_kgs":"1500","credits":"x"},"owner":"me","status":3}`))
	f.Add([]byte(`{"sequestered_at":"2026-01-20T00:30:00+02:00","retired_at":[ 1, 2 ],"beneficiary":{"name":7}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b registry.CreditBatch
		if err := json.Unmarshal(data, &b); err != nil {
			return
		}
		// A decoded batch re-encodes, and its size survives the round trip exactly.
		out, err := json.Marshal(&b)
		if err != nil {
			t.Fatalf("re-encoding a decoded batch: %v", err)
		}
		var again registry.CreditBatch
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("decoding our own encoding %s: %v", out, err)
		}
		if again.Size.CreditKgs != b.Size.CreditKgs || again.ID != b.ID || !again.RetiredAt.Equal(b.RetiredAt.Time) {
			t.Errorf("round trip changed the batch: %+v → %+v", b, again)
		}
		// What could not be read is written back as sent, and marked again when read back.
		compact := func(us []registry.UnreadField) string {
			var out []string
			for _, u := range us {
				// The same JSON value, however it was spaced or escaped.
				dec := json.NewDecoder(strings.NewReader(u.Raw))
				dec.UseNumber()
				var v any
				_ = dec.Decode(&v)
				c, _ := json.Marshal(v)
				// sequestered_at (older documentation) is written back as sequestered_on.
				field := strings.Replace(u.Field, "sequestered_at", "sequestered_on", 1)
				out = append(out, field+"="+string(c)+" ("+u.Why+")")
			}
			slices.Sort(out) // sequestered_at is read after the fields, sequestered_on among them
			return strings.Join(out, "; ")
		}
		if compact(again.Unread()) != compact(b.Unread()) {
			t.Errorf("round trip changed what could not be read: %s → %s", compact(b.Unread()), compact(again.Unread()))
		}
	})
}

func FuzzFormatCredits(f *testing.F) {
	for _, v := range []int64{0, 1, 999, 1000, -1, -1001, 9007199254740993, -9223372036854775808, 9223372036854775807} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, kg int64) {
		s := registry.FormatCredits(kg)
		// Removing the decimal point must give back the kg exactly.
		digits := strings.Replace(s, ".", "", 1)
		back, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || back != kg {
			t.Errorf("FormatCredits(%d) = %q, which reads back as %d (%v)", kg, s, back, err)
		}
		if i := strings.IndexByte(s, '.'); i < 0 || len(s)-i != 4 {
			t.Errorf("FormatCredits(%d) = %q: want exactly three decimals", kg, s)
		}
	})
}
