package history

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/history/pgserver"
)

// Issue 18, point 1: the journal on PostgreSQL, shared by replicas, with the same schema and
// versioned migrations as SQLite. The tests run a real server (pgserver), one for the package.

var (
	pgOnce   sync.Once
	pgShared *pgserver.Server
	pgErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pgShared != nil {
		pgShared.Stop()
	}
	os.Exit(code)
}

// postgresForTest is a new empty database on the package's PostgreSQL server (started on
// first use), or skips t when PostgreSQL is not installed (fails under POSTGRES_REQUIRED=1).
func postgresForTest(t *testing.T) (*pgserver.Server, string) {
	t.Helper()
	if !pgserver.Available() {
		pgserver.ForTest(t) // skips, or fails under POSTGRES_REQUIRED=1
	}
	pgOnce.Do(func() { pgShared, pgErr = pgserver.Start() })
	if pgErr != nil {
		t.Fatal(pgErr)
	}
	return pgShared, pgserver.DatabaseForTest(t, pgShared)
}

func openPostgres(t *testing.T, url string, cfg Config) *Journal {
	t.Helper()
	j, err := OpenURL(context.Background(), url, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// latestVersion is the highest migration number of dialect's migrations.
func latestVersion(t *testing.T, dialect string) int64 {
	t.Helper()
	fsys, err := migrationsFor(dialect)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	var v int64
	for _, e := range entries {
		n, err := strconv.ParseInt(strings.SplitN(e.Name(), "_", 2)[0], 10, 64)
		if err == nil && n > v {
			v = n
		}
	}
	if v < 2 {
		t.Fatalf("%s: latest migration %d; this test wants one after version 1", dialect, v)
	}
	return v
}

// eachDialect runs f on an empty database of each dialect: a raw connection, and how to open
// a journal on it.
func eachDialect(t *testing.T, f func(t *testing.T, dialect string, db *sql.DB, open func() *Journal)) {
	t.Run("sqlite", func(t *testing.T) {
		path := t.TempDir() + "/" + FileName
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		f(t, dialectSQLite, db, func() *Journal {
			j, err := Open(context.Background(), path, Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { j.Close() })
			return j
		})
	})
	t.Run("postgres", func(t *testing.T) {
		_, url := postgresForTest(t)
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		f(t, dialectPostgres, db, func() *Journal { return openPostgres(t, url, Config{}) })
	})
}

func TestMigrationsUpFromEmptyOnBothDatabases(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string, db *sql.DB, open func() *Journal) {
		ctx := context.Background()
		j := open()
		if v, err := j.Version(ctx); err != nil || v != latestVersion(t, dialect) {
			t.Fatalf("version %d, %v; want %d", v, err, latestVersion(t, dialect))
		}
		if j.Dialect() != dialect {
			t.Errorf("dialect %q, want %q", j.Dialect(), dialect)
		}
		// Every table the queries use answers, and kg past 2^31 and 2^53 are kept whole.
		big := active("ctb_BIG", "org_1", 1<<62+1)
		if _, err := j.Record(ctx, big, day0); err != nil {
			t.Fatal(err)
		}
		evs, err := j.Events(ctx, []string{"ctb_BIG"}, time.Time{}, 0)
		if err != nil || len(evs) != 1 || evs[0].Kg != 1<<62+1 {
			t.Errorf("events %+v, %v; want first seen with %d kg", evs, err, int64(1<<62+1))
		}
		if cov, err := j.Coverage(ctx, []string{"ctb_BIG"}); err != nil || !cov["ctb_BIG"].Recorded {
			t.Errorf("coverage %+v, %v", cov, err)
		}
	})
}

// A database at version 1 (the journal's first release) with a recorded batch is migrated to
// the current version at open, keeping what it holds.
func TestMigrationsUpFromVersionOneOnBothDatabases(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string, db *sql.DB, open func() *Journal) {
		ctx := context.Background()
		if err := migrateTo(ctx, db, dialect, 1); err != nil {
			t.Fatal(err)
		}
		var v int64
		if err := db.QueryRowContext(ctx, `SELECT MAX(version_id) FROM goose_db_version`).Scan(&v); err != nil || v != 1 {
			t.Fatalf("at version %d, %v; want 1", v, err)
		}
		if _, err := db.ExecContext(ctx, `SELECT 1 FROM gaps`); err == nil {
			t.Fatal("version 1 already has the gaps table: this test would prove nothing")
		}
		// What a version-1 journal wrote: a batch and its first-seen event.
		old := &Journal{dialect: dialect}
		if _, err := db.ExecContext(ctx, old.rebind(`INSERT INTO batches (id, status, owner, owner_name, beneficiary, beneficiary_name, retirement, children, kg, observed_at)
			VALUES (?, 'active', 'org_1', 'One', '', '', '', '', 1000, ?)`), "ctb_OLD", day0.UnixMilli()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, old.rebind(`INSERT INTO events (batch_id, kind, from_value, to_value, kg, observed_at)
			VALUES (?, 'first_seen', '', 'active', 1000, ?)`), "ctb_OLD", day0.UnixMilli()); err != nil {
			t.Fatal(err)
		}

		j := open()
		if v, err := j.Version(ctx); err != nil || v != latestVersion(t, dialect) {
			t.Fatalf("after open: version %d, %v; want %d", v, err, latestVersion(t, dialect))
		}
		moved := active("ctb_OLD", "org_2", 1000)
		got, err := j.Record(ctx, moved, day0.Add(time.Hour))
		if err != nil || len(got) != 1 || got[0].Kind != KindOwner || got[0].From != "org_1" {
			t.Fatalf("a change to the batch recorded at version 1: %+v, %v", got, err)
		}
		evs, err := j.Events(ctx, []string{"ctb_OLD"}, time.Time{}, 0)
		if err != nil || len(evs) != 2 {
			t.Errorf("events %+v, %v; want version 1's first sighting and the change", evs, err)
		}
		cov, err := j.Coverage(ctx, []string{"ctb_OLD", "ctb_NEVER"})
		if err != nil || !cov["ctb_OLD"].Recorded || cov["ctb_NEVER"].Recorded || cov["ctb_NEVER"].Gap != GapNeverObserved {
			t.Errorf("coverage %+v, %v", cov, err)
		}
	})
}

// Two explorers on one PostgreSQL database (two journals, two connection pools) seeing the
// same batches and the same change at the same time record each change once.
func TestTwoJournalsOnOnePostgresRecordAChangeOnce(t *testing.T) {
	_, url := postgresForTest(t)
	ctx := context.Background()
	a, b := openPostgres(t, url, Config{}), openPostgres(t, url, Config{})
	const n = 300
	batch := func(i int, owner string) *registry.CreditBatch {
		return &registry.CreditBatch{ID: fmt.Sprintf("ctb_%04d", i), Status: registry.StatusActive,
			Owner: registry.Organisation{ID: owner, Name: "Org " + owner}, Size: registry.Quantity{CreditKgs: int64(1000 + i)}}
	}
	observeBoth := func(owner string) {
		var wg sync.WaitGroup
		for _, j := range []*Journal{a, b} {
			wg.Go(func() {
				for i := range n {
					j.Observe(batch(i, owner))
				}
			})
		}
		wg.Wait()
		for _, j := range []*Journal{a, b} {
			if err := j.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	observeBoth("org_1")
	observeBoth("org_2") // every batch changes hands, seen by both
	for _, j := range []*Journal{a, b} {
		if st := j.Stats(); st.Failed != 0 || st.Dropped != 0 {
			t.Errorf("stats %+v: a journal failed or dropped", st)
		}
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("ctb_%04d", i)
	}
	evs, err := a.Events(ctx, ids, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range evs {
		count[e.BatchID+" "+e.Kind]++
	}
	for _, id := range ids {
		if count[id+" "+KindFirstSeen] != 1 || count[id+" "+KindOwner] != 1 {
			t.Fatalf("%s: %d first-seen and %d change-of-holder events; want one each", id, count[id+" "+KindFirstSeen], count[id+" "+KindOwner])
		}
	}
	if len(evs) != 2*n {
		t.Errorf("%d events, want %d", len(evs), 2*n)
	}
	// Both journals' counts of appended events add up to what the database holds: none was
	// counted by both.
	if got := a.Stats().Events + b.Stats().Events; got != int64(len(evs)) {
		t.Errorf("the journals appended %d events between them, the database holds %d", got, len(evs))
	}
}

// DATABASE_URL carries a password: an unreachable server's error says which database, never
// the password.
func TestOpenURLUnreachableKeepsThePasswordOut(t *testing.T) {
	port := freeLoopbackPort(t)
	for _, url := range []string{
		"postgres://explorer:" + pgserver.Password + "@127.0.0.1:" + port + "/history?sslmode=disable&connect_timeout=2",
		"host=127.0.0.1 port=" + port + " user=explorer password='" + pgserver.Password + "' dbname=history sslmode=disable connect_timeout=2",
	} {
		_, err := OpenURL(context.Background(), url, Config{})
		if err == nil {
			t.Fatalf("opened a journal on a closed port")
		}
		if strings.Contains(err.Error(), pgserver.Password) {
			t.Errorf("the error repeats the password: %v", err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1") || !strings.Contains(err.Error(), "cannot connect") {
			t.Errorf("the error does not say where it could not connect: %v", err)
		}
		if red := RedactDatabaseURL(url); strings.Contains(red, pgserver.Password) || !strings.Contains(red, "xxxxx") {
			t.Errorf("RedactDatabaseURL(%q) = %q", url, red)
		}
	}
}

func freeLoopbackPort(t *testing.T) string {
	t.Helper()
	s, err := pgFreePort()
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(s)
}

func TestRebind(t *testing.T) {
	pg, lite := &Journal{dialect: dialectPostgres}, &Journal{dialect: dialectSQLite}
	q := `SELECT a FROM t WHERE b = ? AND c IN (?, ?) AND d = 'what?' AND e = ?`
	if got, want := pg.rebind(q), `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) AND d = 'what?' AND e = $4`; got != want {
		t.Errorf("postgres: %s\nwant       %s", got, want)
	}
	if got := lite.rebind(q); got != q {
		t.Errorf("sqlite: %s", got)
	}
}

func pgFreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
