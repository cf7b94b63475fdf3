package views

import "context"

type userKey struct{}

// WithUser returns ctx carrying the signed-in user's name (as the SSO proxy gave it), which the
// layout shows on every page. Handlers set it once per request, so that no page model needs it.
func WithUser(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, userKey{}, user)
}

// userFrom is the user WithUser attached, or "" when there is none (AUTH_MODE=none).
func userFrom(ctx context.Context) string {
	u, _ := ctx.Value(userKey{}).(string)
	return u
}
