package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/lineage-explorer/explorer/registry/webhook"
)

// A receiver checks each notification over the raw body before it reads it; here the explorer
// is allowed to reach it on loopback because its network is listed.
func ExampleVerify() {
	secret := []byte("a watch list's secret, 16 bytes or more")
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		err := webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), r.Header.Get(webhook.HeaderTimestamp), body, time.Now(), 5*time.Minute)
		if err != nil {
			http.Error(w, "unsigned", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	policy, err := webhook.ParseAllow("127.0.0.0/8")
	if err != nil {
		panic(err)
	}
	d := webhook.NewSender(policy).Deliver(context.Background(), receiver.URL, secret, []byte(`{"changes":[]}`))
	fmt.Println(d.OK, d.Status, d.Attempts)

	d = webhook.NewSender(policy).Deliver(context.Background(), receiver.URL, []byte("another secret of 16 bytes or more"), []byte(`{"changes":[]}`))
	fmt.Println(d.OK, d.Status, d.Attempts)
	// Output:
	// true 204 1
	// false 401 1
}
