package isometric_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
)

// A one-letter secret would be "redacted" out of every word of the registry's messages
// ("Credi[redacted] ba[redacted]ch"): such a configuration is refused when the client is made,
// naming the variable to fix and never the value.
func TestShortSecretsAreRefusedAtStartUp(t *testing.T) {
	const long = "a-long-enough-credential"
	cases := []struct {
		token, secret, variable string
	}{
		{long, "t", "ISOMETRIC_CLIENT_SECRET"},
		{long, "seven77", "ISOMETRIC_CLIENT_SECRET"},
		{"x", long, "ISOMETRIC_ACCESS_TOKEN"},
	}
	for _, tc := range cases {
		_, err := isometric.NewClient(isometric.ClientConfig{BaseURL: isometric.SandboxURL, AccessToken: tc.token, ClientSecret: tc.secret})
		if err == nil {
			t.Errorf("token %d characters, secret %d: accepted", len(tc.token), len(tc.secret))
			continue
		}
		if !strings.Contains(err.Error(), tc.variable) {
			t.Errorf("token %d characters, secret %d: %q does not name %s", len(tc.token), len(tc.secret), err, tc.variable)
		}
		if strings.Contains(err.Error(), long) || strings.Contains(err.Error(), "seven77") {
			t.Errorf("the error shows a credential: %q", err)
		}
	}
	// The demo's own credentials are long enough.
	if _, err := isometric.NewClient(isometric.ClientConfig{BaseURL: isometric.SandboxURL, AccessToken: demo.AccessToken, ClientSecret: demo.ClientSecret}); err != nil {
		t.Errorf("the demo's credentials are refused: %v", err)
	}
}

// An upstream that echoes the credentials has them replaced as whole values; the rest of its
// message reads as it was sent.
func TestRedactionReplacesWholeSecrets(t *testing.T) {
	const token, secret = "tok-abcdefgh", "sec-12345678"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"detail":"Credit batch rejected: token ` + token + ` with secret ` + secret + `"}`))
	}))
	defer srv.Close()
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: srv.URL, AccessToken: token, ClientSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreditBatch(context.Background(), registry.ExampleID(registry.PrefixCreditBatch))
	var apiErr *registry.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v", err)
	}
	if want := "Credit batch rejected: token [redacted] with secret [redacted]"; apiErr.Message != want {
		t.Errorf("message %q, want %q", apiErr.Message, want)
	}
}
