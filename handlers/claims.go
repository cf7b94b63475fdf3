package handlers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	gocache "github.com/patrickmn/go-cache"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/claims"
	"github.com/lineage-explorer/explorer/views"
)

// ClaimsConfig configures the claims check (/claims, POST /api/v1/claims). Zero values take
// the defaults given.
type ClaimsConfig struct {
	// MaxRows is the most claims in one list (CLAIMS_MAX_ROWS). Default 5,000.
	MaxRows int
	// MaxBytes is the largest list, pasted or uploaded, in bytes (CLAIMS_MAX_BYTES). Default 5 MiB.
	MaxBytes int64
	// Keep is how long a checked list's result is kept for its permalink and downloads
	// (CLAIMS_KEEP). Default 1h.
	Keep time.Duration
	// CheckTimeout bounds one list's check in the background. Default 30m.
	CheckTimeout time.Duration
	// Workers is how many rows are checked at once. Default 64 (claims.NewChecker).
	Workers int
	// MaxUnzipped is the most an uploaded XLSX workbook may unpack to, in bytes
	// (CLAIMS_XLSX_MAX_UNZIPPED). Default 32 MiB.
	MaxUnzipped int64
	// MaxCells is the most cells read from a workbook's first sheet (CLAIMS_XLSX_MAX_CELLS).
	// Default 250,000.
	MaxCells int
	// Sample is a list the form can be filled with ("try a sample list"): the demo's. "" for none.
	Sample string
}

// claimsState is the claims check's part of the server: its settings, its checker and the
// results kept.
type claimsState struct {
	cfg     ClaimsConfig
	checker *claims.Checker
	results *gocache.Cache // id → *claimJob
	cop     *http.CrossOriginProtection
}

func newClaimsState(s *server, cfg ClaimsConfig) *claimsState {
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = claims.DefaultMaxRows
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = claims.DefaultMaxBytes
	}
	if cfg.MaxUnzipped <= 0 {
		cfg.MaxUnzipped = claims.DefaultMaxUnzipped
	}
	if cfg.MaxCells <= 0 {
		cfg.MaxCells = claims.DefaultMaxCells
	}
	if cfg.Keep <= 0 {
		cfg.Keep = time.Hour
	}
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = 30 * time.Minute
	}
	return &claimsState{cfg: cfg, checker: claims.NewChecker(s.explorer, cfg.Workers),
		results: gocache.New(cfg.Keep, cfg.Keep/4+time.Minute), cop: http.NewCrossOriginProtection()}
}

func (cs *claimsState) limits() claims.Limits {
	return claims.Limits{MaxRows: cs.cfg.MaxRows, MaxBytes: cs.cfg.MaxBytes, MaxUnzipped: cs.cfg.MaxUnzipped, MaxCells: cs.cfg.MaxCells}
}

// parse reads an uploaded or sent list: an XLSX workbook when the bytes are one (whatever the
// file's name says), else CSV or a paste.
func (cs *claimsState) parse(data string) (*claims.List, error) {
	if claims.LooksLikeXLSX([]byte(data)) {
		return claims.ParseXLSX(strings.NewReader(data), cs.limits())
	}
	return claims.Parse(strings.NewReader(data), cs.limits())
}

// claimJob is one list being checked or checked. Its id is 128 random bits: it cannot be
// guessed, and it opens only for the user who sent the list.
type claimJob struct {
	id      string
	owner   string
	list    *claims.List
	started time.Time
	checked atomic.Int64
	done    chan struct{}
	report  *claims.Report // set before done is closed
}

func (j *claimJob) finished() bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}

// owner is who a result belongs to: the signed-in user, or "" when the explorer runs without
// sign-in (then anyone who has the link may open it).
func owner(c *gin.Context) string {
	id, _ := IdentityFrom(c.Request.Context())
	return id.User
}

// start checks l in the background, bounded by CheckTimeout, not by the request: the browser
// polls the progress page.
func (cs *claimsState) start(c *gin.Context, l *claims.List) *claimJob {
	j := &claimJob{id: rand.Text(), owner: owner(c), list: l, started: time.Now(), done: make(chan struct{})}
	cs.results.SetDefault(j.id, j)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), cs.cfg.CheckTimeout)
		defer cancel()
		j.report = cs.checker.Check(ctx, l, &j.checked)
		close(j.done)
	}()
	return j
}

// job finds a kept result for the user asking; another user's is not found, as an unknown
// one is.
func (cs *claimsState) job(c *gin.Context, id string) (*claimJob, error) {
	// Ids are rand.Text's upper-case base32: a link typed or lower-cased by a tool still finds its list.
	v, ok := cs.results.Get(strings.ToUpper(strings.TrimSpace(id)))
	if j, _ := v.(*claimJob); ok && j != nil && j.owner == owner(c) {
		return j, nil
	}
	return nil, &lookupError{what: "checked list", value: id, err: registry.ErrNotFound}
}

// sameOrigin refuses cross-origin POSTs (Go's CrossOriginProtection: Sec-Fetch-Site, else
// Origin against Host), so that another site cannot make a signed-in browser send lists.
func (s *server) sameOrigin(c *gin.Context) {
	if err := s.claims.cop.Check(c.Request); err != nil {
		c.AbortWithStatusJSON(http.StatusForbidden, apiError{Status: http.StatusForbidden, Code: "cross_origin",
			Error: "cross-origin requests are refused: use the explorer's own pages, or send the request from a tool without browser headers"})
		return
	}
	c.Next()
}

// claimsForm is GET /claims: the form, filled with the demo's sample list on ?sample=1.
func (s *server) claimsForm(c *gin.Context) error {
	text := ""
	if c.Query("sample") != "" {
		text = s.claims.cfg.Sample
	}
	s.render(c, http.StatusOK, views.ClaimsFormPage(s.claimsFormPage(text, "")))
	return nil
}

func (s *server) claimsFormPage(text, msg string) views.ClaimsForm {
	return views.ClaimsForm{Base: s.base("Check a list of claims"), Text: text, Error: msg,
		MaxRows: views.FormatCount(s.claims.cfg.MaxRows), MaxBytes: byteSize(s.claims.cfg.MaxBytes), HasSample: s.claims.cfg.Sample != "",
		MaxUnzipped: byteSize(s.claims.cfg.MaxUnzipped), MaxCells: views.FormatCount(s.claims.cfg.MaxCells)}
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return views.FormatCount(n) + " bytes"
}

// formOverhead is what a multipart body adds around the list: boundaries and part headers.
const formOverhead = 64 << 10

// claimsPost is POST /claims: the list from the text area or the file (CSV or XLSX; multipart,
// or a plain form), checked in the background; it answers 303 to the result's page. A list
// that cannot be read is answered with the form again, the text kept, and why: 413 past a
// limit (named), 400 for a file that is neither text nor a workbook, or an empty list.
func (s *server) claimsPost(c *gin.Context) error {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.claims.cfg.MaxBytes+formOverhead)
	text, file, err := s.readClaimsForm(c)
	if err == nil {
		src := text
		if strings.TrimSpace(file) != "" {
			src = file
		}
		var l *claims.List
		if l, err = s.claims.parse(src); err == nil {
			if len(l.Claims) == 0 {
				s.render(c, http.StatusBadRequest, views.ClaimsFormPage(s.claimsFormPage(text, "The list is empty: paste claims, one a line, or choose a CSV file.")))
				return nil
			}
			j := s.claims.start(c, l)
			c.Header("Cache-Control", "no-store")
			c.Redirect(http.StatusSeeOther, s.url(views.ClaimsResultURL(j.id, "")))
			return nil
		}
	}
	status, msg := s.claimsInputError(err)
	if int64(len(text)) > s.claims.cfg.MaxBytes {
		text = "" // not echoed back: it is what was too large (a list of too many rows is kept)
	}
	s.render(c, status, views.ClaimsFormPage(s.claimsFormPage(text, msg)))
	return nil
}

// claimsInputError maps what went wrong with a list sent to a status and a sentence.
func (s *server) claimsInputError(err error) (int, string) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, capitalise(claims.TooLargeBytes(s.claims.cfg.MaxBytes).Error()) + "."
	case errors.Is(err, claims.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, capitalise(err.Error()) + "."
	case errors.Is(err, claims.ErrNotText):
		return http.StatusBadRequest, capitalise(err.Error()) + "."
	}
	return http.StatusBadRequest, "The list could not be read: send it from the form on this page."
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// readClaimsForm reads the "list" and "file" fields of a multipart or URL-encoded form, each
// bounded by MaxBytes (past it: claims.ErrTooLarge naming the limit).
func (s *server) readClaimsForm(c *gin.Context) (text, file string, err error) {
	ct, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if ct != "multipart/form-data" {
		if err := c.Request.ParseForm(); err != nil {
			return "", "", err
		}
		return c.Request.PostForm.Get("list"), "", nil
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return "", "", err
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return text, file, nil
		}
		if err != nil {
			return "", "", err
		}
		name := part.FormName()
		if name != "list" && name != "file" {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, s.claims.cfg.MaxBytes+1))
		if err != nil {
			return "", "", err
		}
		if int64(len(b)) > s.claims.cfg.MaxBytes {
			return "", "", claims.TooLargeBytes(s.claims.cfg.MaxBytes)
		}
		if name == "list" {
			text = string(b)
		} else {
			file = string(b)
		}
	}
}

// claimsResult is GET /claims/{id}: the verdicts, filtered by ?verdict=, or the progress page
// while the list is checked (it waits for ProgressWait first, so that a short list goes
// straight to its verdicts).
func (s *server) claimsResult(c *gin.Context) error {
	j, err := s.claims.job(c, c.Param("id"))
	if err != nil {
		return err
	}
	if !s.waitClaims(c, j, s.progressWait) {
		p := views.ClaimsProgress{Base: s.base("Checking a list of claims"), Checked: int(j.checked.Load()), Total: len(j.list.Claims)}
		p.Refresh = 1
		c.Header("Retry-After", "1")
		s.render(c, http.StatusAccepted, views.ClaimsProgressPage(p))
		return nil
	}
	verdict, err := verdictFilter(c)
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "private, no-store")
	s.render(c, http.StatusOK, views.ClaimsResultsPage(views.NewClaimsResults(s.base("Verdicts"), j.id, j.list, j.report, string(verdict))))
	return nil
}

// verdictFilter is the ?verdict= of a results page or download: "" for every row, else one
// of claims.Codes; anything else is an error naming the verdicts there are (400), rather
// than every row shown as if the filter had been understood.
func verdictFilter(c *gin.Context) (claims.Code, error) {
	v := strings.ToLower(strings.TrimSpace(c.Query("verdict")))
	if v == "" || claims.ValidCode(v) {
		return claims.Code(v), nil
	}
	names := make([]string, len(claims.Codes))
	for i, code := range claims.Codes {
		names[i] = string(code)
	}
	return "", &lookupError{what: "verdict", value: c.Query("verdict"), param: true,
		err: fmt.Errorf("%w: the verdicts are %s", registry.ErrInvalid, strings.Join(names, ", "))}
}

func (s *server) waitClaims(c *gin.Context, j *claimJob, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-j.done:
		return true
	case <-t.C:
		return false
	case <-c.Request.Context().Done():
		return false
	}
}

// claimsDownload is the checked list a download asks for (the user's own) and the verdict it
// is filtered on.
func (s *server) claimsDownload(c *gin.Context) (*claimJob, claims.Code, error) {
	j, err := s.claims.job(c, c.Param("id"))
	if err != nil {
		return nil, "", err
	}
	verdict, err := verdictFilter(c)
	return j, verdict, err
}

// claimsCSV is GET /claims/{id}/results.csv: the input columns, then the verdict's, every
// cell formula-guarded.
func (s *server) claimsCSV(c *gin.Context) error {
	j, verdict, err := s.claimsDownload(c)
	if err != nil {
		return err
	}
	if !s.waitClaims(c, j, s.fragmentWait) {
		s.writePending(c, j.id, j.checked.Load(), int64(len(j.list.Claims)), j.started)
		return nil
	}
	var b strings.Builder
	b.WriteString(utf8BOM) // as the lineage CSV: Excel reads names in UTF-8 only with it
	if err := claims.WriteCSV(&b, j.list, j.report.Only(verdict)); err != nil {
		return err
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="claims-`+j.id[:8]+`.csv"`)
	h.Set("Cache-Control", "private, no-store")
	c.Status(http.StatusOK)
	_, _ = io.WriteString(c.Writer, b.String())
	return nil
}

// claimsAnswer is the JSON of a checked list: kg as JSON integers.
type claimsAnswer struct {
	Status string `json:"status"` // "done"
	ID     string `json:"id"`
	URL    string `json:"url"` // the results page
	// Verdict is the ?verdict= the rows are filtered on, "" for every row; Total and Counts
	// are then of those rows.
	Verdict claims.Code         `json:"verdict,omitempty"`
	Total   int                 `json:"total"`
	Counts  map[claims.Code]int `json:"counts"`
	TookMS  int64               `json:"took_ms"`
	Columns []string            `json:"columns,omitempty"` // the input's header, when it had one
	Rows    []claims.Result     `json:"rows"`
}

// claimsPending is the 202 answer while a list is being checked.
type claimsPending struct {
	Status    string `json:"status"` // "pending"
	ID        string `json:"id"`
	Checked   int64  `json:"checked"`
	Total     int    `json:"total"`
	ResultURL string `json:"result_url"`
	ElapsedMS int64  `json:"elapsed_ms"`
}

func (s *server) claimsJSONAnswer(c *gin.Context, j *claimJob, wait time.Duration, verdict claims.Code) {
	if !s.waitClaims(c, j, wait) {
		u := s.url("/api/v1/claims/" + j.id)
		c.Header("Location", u)
		c.Header("Retry-After", "1")
		s.writeJSON(c, http.StatusAccepted, claimsPending{Status: "pending", ID: j.id, Checked: j.checked.Load(),
			Total: len(j.list.Claims), ResultURL: u, ElapsedMS: time.Since(j.started).Milliseconds()})
		return
	}
	c.Header("Cache-Control", "private, no-store")
	rep := j.report.Only(verdict)
	s.writeJSON(c, http.StatusOK, claimsAnswer{Status: "done", ID: j.id, URL: s.url(views.ClaimsResultURL(j.id, string(verdict))), Verdict: verdict,
		Total: len(rep.Results), Counts: rep.Counts, TookMS: rep.Took.Milliseconds(), Columns: j.list.Header, Rows: rep.Results})
}

// claimsJSON is GET /claims/{id}/results.json and GET /api/v1/claims/{id}: the verdicts, or
// 202 with the progress while the list is checked.
func (s *server) claimsJSON(c *gin.Context) error {
	j, verdict, err := s.claimsDownload(c)
	if err != nil {
		return err
	}
	if strings.HasSuffix(c.Request.URL.Path, ".json") {
		c.Header("Content-Disposition", `attachment; filename="claims-`+j.id[:8]+`.json"`)
	}
	s.claimsJSONAnswer(c, j, s.fragmentWait, verdict)
	return nil
}

// claimsAPI is POST /api/v1/claims: a JSON array (of identifiers, or of objects with the
// columns as keys: serial, batch, retirement, kg, credits, beneficiary, retired_at, and any
// other echoed back), a CSV body, or an XLSX workbook (its first sheet). It answers the verdicts (200) when the list is checked
// within FragmentWait, else 202 with the progress and the result's URL (Location).
func (s *server) claimsAPI(c *gin.Context) error {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.claims.cfg.MaxBytes)
	body, err := io.ReadAll(c.Request.Body)
	var l *claims.List
	if err == nil {
		if t := strings.TrimLeft(string(body), " \t\r\n\uFEFF"); strings.HasPrefix(t, "[") {
			l, err = claims.FromJSON([]byte(t), s.claims.limits())
		} else if strings.HasPrefix(t, "{") || (strings.Contains(c.ContentType(), "json") && t != "") {
			err = errors.New("a JSON body must be an array of claims (strings or objects)")
		} else {
			l, err = s.claims.parse(string(body))
		}
	}
	if err != nil {
		status, msg := s.claimsInputError(err)
		if status == http.StatusBadRequest && !errors.Is(err, claims.ErrNotText) {
			msg = "the body is neither a JSON array of claims nor CSV: " + err.Error()
		}
		s.writeJSON(c, status, apiError{Status: status, Code: map[bool]string{true: "too_large", false: "invalid"}[status == http.StatusRequestEntityTooLarge], Error: msg, What: "list of claims"})
		return nil
	}
	if len(l.Claims) == 0 {
		s.writeJSON(c, http.StatusBadRequest, apiError{Status: http.StatusBadRequest, Code: "invalid", Error: "the list is empty", What: "list of claims"})
		return nil
	}
	s.claimsJSONAnswer(c, s.claims.start(c, l), s.fragmentWait, "")
	return nil
}
