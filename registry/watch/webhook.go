package watch

import (
	"context"

	"github.com/lineage-explorer/explorer/registry/webhook"
)

// Webhooks is the Notifier that sends through the webhook package: deliveries signed with
// HMAC-SHA256, retried with backoff, and only to where policy (WEBHOOK_ALLOW) lets them go.
// It is nil, so that nothing is sent and /watch says so, when the policy allows nothing.
func Webhooks(policy webhook.Policy) Notifier {
	if !policy.Enabled() {
		return nil
	}
	return webhooks{policy: policy, sender: webhook.NewSender(policy)}
}

type webhooks struct {
	policy webhook.Policy
	sender *webhook.Sender
}

func (w webhooks) CheckURL(url string) error { return w.policy.CheckURL(url) }

func (w webhooks) Deliver(ctx context.Context, url string, secret, body []byte) Delivery {
	d := w.sender.Deliver(ctx, url, secret, body)
	return Delivery{Attempts: d.Attempts, Status: d.Status, Err: d.Err, Started: d.Started, Finished: d.Finished, OK: d.OK}
}
