package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DefaultJWKSCooldown is the least time between two fetches of the sign-in proxy's keys when
// AuthConfig.JWKSCooldown is zero: short enough that a rotated key works within half a
// minute, long enough that made-up key ids cost the proxy next to nothing.
const DefaultJWKSCooldown = 30 * time.Second

// keyFetches counts the fetches of the sign-in proxy's keys by this process, successful or
// not, for /metrics. It is a process-wide count because the Metrics and the Authenticator are
// made apart, and a process has one Authenticator.
var keyFetches atomic.Int64

// maxJWKSBytes bounds a JWKS read: a proxy publishes a handful of keys, a few KiB.
const maxJWKSBytes = 1 << 20

// keySet is the sign-in proxy's public keys (AUTH_JWKS_URL), fetched again when an assertion
// names a key id it lacks, at most once per cooldown. go-oidc's RemoteKeySet fetches for every
// unknown key id, so anyone able to send an assertion could cost the proxy a fetch per request.
// Fetching is ensure's; VerifySignature, which the go-oidc verifier calls, only checks against
// the keys at hand.
type keySet struct {
	url      string
	base     context.Context // values for fetches (not their cancellation: they serve many requests)
	client   *http.Client
	cooldown time.Duration
	now      func() time.Time
	log      *slog.Logger
	algs     []jose.SignatureAlgorithm

	mu       sync.Mutex
	keys     []jose.JSONWebKey // replaced whole by a fetch, never changed in place
	last     time.Time         // when the last fetch began; zero before the first
	failed   bool              // the last fetch failed
	inflight chan struct{}     // closed when the fetch under way ends; nil when none is
}

// errKeyUnknown is an assertion naming a key id the proxy did not publish when last asked;
// errKeysUnavailable a key set that could not be fetched.
var (
	errKeyUnknown      = errors.New("the assertion names a key the sign-in proxy does not publish")
	errKeysUnavailable = errors.New("the sign-in proxy's keys could not be fetched")
)

// kidOf is the key id an assertion names, and whether it parses as a JWS with one signature
// by an algorithm allowed. An assertion that does not is left to the verifier to refuse,
// without costing a fetch.
func (k *keySet) kidOf(raw string) (string, bool) {
	jws, err := jose.ParseSigned(raw, k.algs)
	if err != nil || len(jws.Signatures) != 1 {
		return "", false
	}
	return jws.Signatures[0].Header.KeyID, true
}

// ensure makes sure a key with id kid ("": any key) is at hand, fetching the keys when it is
// not, unless a fetch began less than a cooldown ago: then it answers errKeyUnknown (or
// errKeysUnavailable) at once. Requests arriving while a fetch is under way wait for it
// rather than start another.
func (k *keySet) ensure(ctx context.Context, kid string) error {
	k.mu.Lock()
	if k.has(kid) {
		k.mu.Unlock()
		return nil
	}
	if done := k.inflight; done != nil {
		k.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		return k.missing(kid)
	}
	if !k.last.IsZero() && k.now().Sub(k.last) < k.cooldown {
		defer k.mu.Unlock()
		return k.missing(kid)
	}
	k.last = k.now()
	done := make(chan struct{})
	k.inflight = done
	k.mu.Unlock()

	keys, err := k.fetch()
	keyFetches.Add(1)
	if err != nil {
		k.log.Warn("cannot fetch the sign-in proxy's keys; assertions naming a key not at hand are refused until a fetch succeeds",
			"url", k.url, "err", err, "next_fetch_in", k.cooldown.String())
	} else {
		k.log.Info("fetched the sign-in proxy's keys", "url", k.url, "keys", len(keys))
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	k.failed = err != nil
	if err == nil {
		k.keys = keys
	}
	k.inflight = nil
	close(done)
	return k.missing(kid)
}

// has reports whether a key with id kid ("": any key) is at hand; k.mu is held.
func (k *keySet) has(kid string) bool {
	for _, key := range k.keys {
		if kid == "" || key.KeyID == kid {
			return true
		}
	}
	return false
}

// missing is ensure's answer once no fetch may be made: nil if the key is at hand after all;
// k.mu is held.
func (k *keySet) missing(kid string) error {
	switch {
	case k.has(kid):
		return nil
	case k.failed:
		return errKeysUnavailable
	}
	return errKeyUnknown
}

// fetch reads the JWKS. Keys go-jose cannot read (such as Ed448) and encryption keys are
// skipped rather than failing the whole set, as go-oidc does; the body of an error answer is
// left out of the error, which reaches the log.
func (k *keySet) fetch() ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(k.base, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the key endpoint answered %s", resp.Status)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKSBytes)).Decode(&set); err != nil {
		return nil, fmt.Errorf("the key endpoint did not answer a JWKS: %v", err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(raw); err != nil || !key.Valid() || key.Use == "enc" {
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("the key endpoint published no signing key")
	}
	return keys, nil
}

// VerifySignature checks raw's signature against the keys at hand (the oidc.KeySet the
// verifier calls); ensure has fetched them if need be.
func (k *keySet) VerifySignature(_ context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, k.algs)
	if err != nil {
		return nil, fmt.Errorf("malformed jwt: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("an assertion has exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	k.mu.Lock()
	keys := k.keys
	k.mu.Unlock()
	for _, key := range keys {
		if kid == "" || key.KeyID == kid {
			if payload, err := jws.Verify(&key); err == nil {
				return payload, nil
			}
		}
	}
	return nil, errors.New("no key the sign-in proxy publishes verifies the signature")
}
