package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The headers a delivery carries besides Content-Type and User-Agent.
const (
	// HeaderTimestamp holds the attempt's time in Unix seconds, which the signature covers, so
	// that a receiver can refuse a replayed old request.
	HeaderTimestamp = "X-Lineage-Timestamp"
	// HeaderSignature holds Sign's value: "sha256=" and the hex HMAC-SHA256 of
	// timestamp + "." + body under the watch list's secret.
	HeaderSignature = "X-Lineage-Signature"
	// HeaderDelivery holds an id that is the same for every attempt of one delivery, so that a
	// receiver can tell a retry from a new notification.
	HeaderDelivery = "X-Lineage-Delivery"
)

// MinSecretLen is the shortest signing secret Deliver accepts, in bytes; NewSecret makes 32.
const MinSecretLen = 16

// DefaultTolerance is how far a timestamp may be from the receiver's clock, either way, when
// Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// The reasons Verify refuses a request.
var (
	// ErrBadSignature: the signature header is missing, malformed, or not the body's HMAC
	// under the secret (the body or the timestamp was changed, or the secret is another).
	ErrBadSignature = errors.New("webhook signature does not match")
	// ErrBadTimestamp: the timestamp header is missing or not Unix seconds.
	ErrBadTimestamp = errors.New("webhook timestamp is missing or malformed")
	// ErrStaleTimestamp: the timestamp is further from now than the tolerance (a replay, or a
	// clock far off).
	ErrStaleTimestamp = errors.New("webhook timestamp is outside the tolerance")
)

// NewSecret makes a signing secret of 32 random bytes for a new watch list's webhook; the
// caller stores it and shows it to the user once (hex-encoded, say).
func NewSecret() ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return b, nil
}

// Sign is the value of HeaderSignature for body sent at ts: "sha256=" followed by the lower-case
// hex of HMAC-SHA256(secret, "<ts in Unix seconds>.<body>"). The timestamp is inside the MAC so
// that it cannot be changed to replay an old body as new.
func Sign(secret []byte, ts time.Time, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, strconv.FormatInt(ts.Unix(), 10), body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify is the receiver's check of a delivery: header is HeaderSignature's value, tsHeader
// HeaderTimestamp's, body the raw request body. It refuses a timestamp further than tolerance
// from now, either way (0 means DefaultTolerance), with ErrStaleTimestamp, and a signature that
// is not the HMAC of that timestamp and body under secret with ErrBadSignature (compared in
// constant time). Its errors never repeat the secret or the expected signature.
func Verify(secret []byte, header, tsHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	tsHeader = strings.TrimSpace(tsHeader)
	sec, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil || sec < 0 {
		return ErrBadTimestamp
	}
	// Compared in seconds, so that no timestamp, however far, overflows a Duration.
	skew := now.Unix() - sec
	if skew < 0 {
		skew = -skew
	}
	if skew < 0 || skew > int64(tolerance/time.Second) {
		return ErrStaleTimestamp
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return ErrBadSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || !hmac.Equal(got, mac(secret, tsHeader, body)) {
		return ErrBadSignature
	}
	return nil
}
