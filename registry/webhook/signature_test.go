package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
	"time"
)

var testSecret = []byte("0123456789abcdef-watch-list-secret")

// The signature is the one a receiver computes by hand from the documented recipe, so that a
// receiver in another language can check it without this package.
func TestSignatureFollowsTheDocumentedRecipe(t *testing.T) {
	ts := time.Unix(1_790_000_000, 0)
	body := []byte(`{"batch":"cb_1","change":"retired"}`)
	m := hmac.New(sha256.New, testSecret)
	m.Write([]byte(strconv.FormatInt(ts.Unix(), 10) + "." + string(body)))
	if got, want := Sign(testSecret, ts, body), "sha256="+hex.EncodeToString(m.Sum(nil)); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	ts := time.Unix(1_790_000_000, 0)
	tsHeader := strconv.FormatInt(ts.Unix(), 10)
	body := []byte(`{"batch":"cb_1","change":"retired"}`)
	sig := Sign(testSecret, ts, body)

	if err := Verify(testSecret, sig, tsHeader, body, ts.Add(30*time.Second), time.Minute); err != nil {
		t.Fatalf("Verify of a fresh, unchanged request: %v", err)
	}
	cases := []struct {
		name          string
		secret        []byte
		sig, tsHeader string
		body          []byte
		now           time.Time
		want          error
	}{
		{"changed body", testSecret, sig, tsHeader, []byte(`{"batch":"cb_1","change":"split"}`), ts, ErrBadSignature},
		{"body with a byte added", testSecret, sig, tsHeader, append([]byte(`{"batch":"cb_1","change":"retired"}`), ' '), ts, ErrBadSignature},
		{"other secret", []byte("another-secret-of-the-same-size!!"), sig, tsHeader, body, ts, ErrBadSignature},
		{"timestamp moved forward to replay", testSecret, sig, strconv.FormatInt(ts.Unix()+600, 10), body, ts.Add(600 * time.Second), ErrBadSignature},
		{"old timestamp", testSecret, sig, tsHeader, body, ts.Add(6 * time.Minute), ErrStaleTimestamp},
		{"timestamp from the future", testSecret, sig, tsHeader, body, ts.Add(-6 * time.Minute), ErrStaleTimestamp},
		{"no timestamp", testSecret, sig, "", body, ts, ErrBadTimestamp},
		{"timestamp not a number", testSecret, sig, "yesterday", body, ts, ErrBadTimestamp},
		{"no signature", testSecret, "", tsHeader, body, ts, ErrBadSignature},
		{"signature without its scheme", testSecret, sig[len("sha256="):], tsHeader, body, ts, ErrBadSignature},
		{"signature not hex", testSecret, "sha256=zz", tsHeader, body, ts, ErrBadSignature},
		{"far timestamp", testSecret, sig, "9223372036854775807", body, ts, ErrStaleTimestamp},
	}
	for _, c := range cases {
		err := Verify(c.secret, c.sig, c.tsHeader, c.body, c.now, 0)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
	}
}
