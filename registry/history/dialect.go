package history

import (
	"errors"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
)

// The journal's two databases. Queries are written once, with ? placeholders, and rebound.
const (
	dialectSQLite   = "sqlite"
	dialectPostgres = "postgres"
)

// rebind turns q's ? placeholders into the journal's database's own: unchanged for SQLite,
// $1, $2, … for PostgreSQL. Every query of the package goes through it, so that each is
// written once. A ? inside a quoted literal is left alone.
func (j *Journal) rebind(q string) string {
	if j.dialect != dialectPostgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '\'':
			quoted = !quoted // '' inside a literal toggles twice: still quoted
			b.WriteByte(c)
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// migrationsFor is the migrations of one dialect: the files of migrations/ (SQL both
// databases accept), each replaced by the file of the same name in migrations/<dialect>/ where
// there is one, plus that directory's own files. Version numbers are shared: a version is
// written once for both, or once per dialect, never differently numbered.
func migrationsFor(dialect string) (fs.FS, error) {
	root, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	return overlayFS{base: root, dir: dialect}, nil
}

// overlayFS shows base's top-level files with dir's files over them.
type overlayFS struct {
	base fs.FS
	dir  string
}

func (o overlayFS) Open(name string) (fs.File, error) {
	if name != "." && !strings.Contains(name, "/") {
		if f, err := o.base.Open(path.Join(o.dir, name)); err == nil {
			return f, nil
		}
	}
	return o.base.Open(name)
}

func (o overlayFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name != "." {
		return fs.ReadDir(o.base, name)
	}
	var out []fs.DirEntry
	seen := map[string]bool{}
	own, err := fs.ReadDir(o.base, o.dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range own {
		if !e.IsDir() {
			out, seen[e.Name()] = append(out, e), true
		}
	}
	shared, err := fs.ReadDir(o.base, ".")
	if err != nil {
		return nil, err
	}
	for _, e := range shared {
		if !e.IsDir() && !seen[e.Name()] {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// gooseDialect is goose's name for dialect.
func gooseDialect(dialect string) goose.Dialect {
	if dialect == dialectPostgres {
		return goose.DialectPostgres
	}
	return goose.DialectSQLite3
}

// RedactDatabaseURL is DATABASE_URL fit for logs, pages and errors: a postgres:// URL with its
// password replaced by "xxxxx" (and a password= parameter dropped), or a keyword/value string
// ("host=… password=…") with the password's value replaced.
func RedactDatabaseURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://") {
		u, err := url.Parse(raw)
		if err != nil {
			// Unparseable: keep only what cannot hold a secret.
			return strings.SplitN(raw, "://", 2)[0] + "://(unreadable URL)"
		}
		q := u.Query()
		for _, k := range []string{"password", "sslpassword"} {
			if q.Has(k) {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
		return u.Redacted()
	}
	return keywordPassword.ReplaceAllString(raw, "${1}xxxxx")
}

// keywordPassword matches the value of password= or sslpassword= in a keyword/value
// connection string, quoted (with doubled or escaped quotes inside) or not.
var keywordPassword = regexp.MustCompile(`((?:^|\s)(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.|'')*'|\S*)`)

// databaseError is an error of the PostgreSQL journal, its text scrubbed of the password, so
// that nothing the driver says (a URL echoed back, say) can carry it into a log or a page.
type databaseError struct{ text string }

func (e *databaseError) Error() string { return e.text }

// scrub returns err with every occurrence of secret (and of its URL-escaped forms) in its text
// replaced by "xxxxx". The chain is not kept: errors.As could reach the driver's own text.
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s), url.UserPassword("", s).String()[1:]} {
			if form != "" {
				text = strings.ReplaceAll(text, form, "xxxxx")
			}
		}
	}
	return &databaseError{text: text}
}

// pgConnectWait bounds the ping that proves, at start, that PostgreSQL answers.
const pgConnectWait = 10 * time.Second

// passwordOf is the password in raw, a URL or a keyword/value string, as well as it can be
// found in a string pgx could not parse: "" when none.
func passwordOf(raw string) string {
	if u, err := url.Parse(strings.TrimSpace(raw)); err == nil && u.User != nil {
		p, _ := u.User.Password()
		return p
	}
	if m := keywordPassword.FindStringSubmatch(raw); m != nil {
		return strings.Trim(m[2], "'")
	}
	return ""
}
