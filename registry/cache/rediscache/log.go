package rediscache

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// secrets are the passwords of every Tier opened, scrubbed from go-redis's log lines, which are
// process-wide and so cannot be scrubbed per Tier.
var secrets struct {
	sync.Mutex
	list []string
}

func addSecret(p string) {
	if p == "" {
		return
	}
	secrets.Lock()
	defer secrets.Unlock()
	for _, s := range []string{p, url.QueryEscape(p), url.PathEscape(p)} {
		if !slices.Contains(secrets.list, s) {
			secrets.list = append(secrets.list, s)
		}
	}
}

func scrubSecrets(s string) string {
	secrets.Lock()
	defer secrets.Unlock()
	for _, p := range secrets.list {
		s = strings.ReplaceAll(s, p, "xxxxx")
	}
	return s
}

// SetLogger sends go-redis's own log lines (a dial that failed, a Sentinel failover) to l at
// Warn level, under the attribute component=redis, with the password of every Tier opened
// replaced by "xxxxx". go-redis's logger is process-wide, so this is too; call it once at start.
// Without it those lines go to stderr through the standard log package: in go-redis v9.23 they
// hold addresses and error text, not credentials, but nothing scrubs them there.
func SetLogger(l *slog.Logger) {
	redis.SetLogger(slogAdapter{l})
}

type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Printf(ctx context.Context, format string, v ...any) {
	a.l.WarnContext(ctx, strings.TrimSpace(scrubSecrets(fmt.Sprintf(format, v...))), "component", "redis")
}
