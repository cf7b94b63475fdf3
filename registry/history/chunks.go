package history

import "strings"

// maxIDsPerQuery keeps each query's parameters well under SQLite's limit.
const maxIDsPerQuery = 500

// placeholders is n query parameters, "?,?,…", for an IN list of n ids (rebound for
// PostgreSQL by Journal.rebind).
func placeholders(n int) string { return "?" + strings.Repeat(",?", n-1) }

// anyIDs is ids as query arguments, with room for one more.
func anyIDs(ids []string) []any {
	args := make([]any, 0, len(ids)+1)
	for _, id := range ids {
		args = append(args, id)
	}
	return args
}
