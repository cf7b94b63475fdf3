// Package claims checks a list of claimed credits (serial ranges, credit batch ids, retirement
// ids, with the kg, beneficiary and date someone says they retired) against the registry, and
// gives every row a verdict. It reads the registry only through lineage's Explorer (serial
// index, cache, walks), so rows of one tree share one walk and a warm list costs no upstream
// request.
package claims

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lineage-explorer/explorer/registry"
)

// Limits bound what one list may cost. Zero values take the defaults.
type Limits struct {
	// MaxRows is the most claims in one list (header and blank lines not counted). Default 5,000.
	MaxRows int
	// MaxBytes is the largest list, in bytes, as pasted or uploaded. Default 5 MiB.
	MaxBytes int64
	// MaxUnzipped is the most an XLSX workbook may unpack to, in bytes, all its parts
	// together: a few kilobytes of zip can unpack to gigabytes. Default 32 MiB.
	MaxUnzipped int64
	// MaxCells is the most cells read from an XLSX workbook's first sheet, empty ones inside
	// a row included. Default 250,000.
	MaxCells int
}

// The defaults of Limits.
const (
	DefaultMaxRows           = 5000
	DefaultMaxBytes    int64 = 5 << 20
	DefaultMaxUnzipped int64 = 32 << 20
	DefaultMaxCells          = 250_000
)

func (l Limits) withDefaults() Limits {
	if l.MaxRows <= 0 {
		l.MaxRows = DefaultMaxRows
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxUnzipped <= 0 {
		l.MaxUnzipped = DefaultMaxUnzipped
	}
	if l.MaxCells <= 0 {
		l.MaxCells = DefaultMaxCells
	}
	return l
}

// ErrTooLarge is wrapped by the errors of a list past a limit (rows or bytes); a web layer
// answers it 413. The error's text names the limit.
var ErrTooLarge = errors.New("the list is too large")

// ErrNotText is wrapped by the error of an upload that is not text (a binary file, or text
// that is not UTF-8): no row of it could be read.
var ErrNotText = errors.New("the file is not a text list")

// Role is what a column of a list holds, recognised from its header.
type Role string

// The columns a header can name. Any other column is echoed back as it is (RoleOther).
const (
	RoleSerial      Role = "serial"
	RoleBatch       Role = "batch"
	RoleRetirement  Role = "retirement"
	RoleKg          Role = "kg"
	RoleCredits     Role = "credits"
	RoleBeneficiary Role = "beneficiary"
	RoleDate        Role = "retired_at"
	RoleOther       Role = ""
)

// headerNames maps a header cell, lower case with spaces and hyphens as underscores, to its
// role.
var headerNames = map[string]Role{
	"serial": RoleSerial, "serial_number": RoleSerial, "serial_no": RoleSerial, "serials": RoleSerial,
	"batch": RoleBatch, "id": RoleBatch, "batch_id": RoleBatch, "credit_batch": RoleBatch, "credit_batch_id": RoleBatch,
	"retirement": RoleRetirement, "retirement_id": RoleRetirement,
	"kg": RoleKg, "kgs": RoleKg, "credit_kgs": RoleKg, "size_kg": RoleKg,
	"credits": RoleCredits, "tonnes": RoleCredits, "tons": RoleCredits, "tco2e": RoleCredits, "t": RoleCredits,
	"beneficiary": RoleBeneficiary, "beneficiary_name": RoleBeneficiary,
	"retired_at": RoleDate, "date": RoleDate, "retirement_date": RoleDate, "retired_on": RoleDate,
}

// Kind is what a claim names.
type Kind string

// The kinds of claim. KindNone is a row in which no identifier could be read.
const (
	KindSerial     Kind = "serial"
	KindBatch      Kind = "batch"
	KindRetirement Kind = "retirement"
	KindNone       Kind = ""
)

// Claim is one row of a list, read. Every field holds text or figures from the user:
// untrusted, to be rendered escaped.
type Claim struct {
	// Row is the row's number in the list, from 1, blank lines and the header not counted.
	Row int `json:"row"`
	// Cells are the row's columns as given (the whole line when it has one).
	Cells []string `json:"cells"`
	// Kind and ID say what the row names: the canonical serial number or id.
	Kind Kind   `json:"kind,omitempty"`
	ID   string `json:"id,omitempty"`
	// Serial is the claimed range when Kind is KindSerial.
	Serial registry.Serial `json:"-"`
	// Malformed lists what could not be read, in words ("the kg column …"); a row without an
	// identifier has one entry saying so.
	Malformed []string `json:"malformed,omitempty"`
	// Kg is the claimed size in kg, when the row gives one (kg or credits column).
	Kg    int64 `json:"kg,omitempty"`
	HasKg bool  `json:"-"`
	// Beneficiary is the claimed beneficiary (name or org_ id); "" when not claimed.
	Beneficiary string `json:"beneficiary,omitempty"`
	// Date is the claimed retirement day (UTC midnight); zero when not claimed.
	Date time.Time `json:"-"`
}

// Text is the row as the user wrote it: its cells joined by sep.
func (c Claim) Text(sep string) string { return strings.Join(c.Cells, sep) }

// List is a parsed list of claims.
type List struct {
	// Header is the header row when one was recognised, else nil.
	Header []string
	// Roles are the roles of the header's columns (same length as Header).
	Roles []Role
	// Sep is the field separator the list was read with ("\t", ",", ";").
	Sep    string
	Claims []Claim
}

// Columns is the number of input columns: the header's, else the widest row's.
func (l *List) Columns() int {
	n := len(l.Header)
	for _, c := range l.Claims {
		n = max(n, len(c.Cells))
	}
	return n
}

// Parse reads a list as pasted or uploaded as CSV: UTF-8 with or without a byte-order mark,
// CRLF or LF, fields separated by tabs (a paste from a spreadsheet), semicolons (CSV as Excel
// writes it in European locales) or commas, quoted or not. A first row naming columns
// (serial, batch, retirement, kg, credits, beneficiary, retired_at and their synonyms) is a
// header; without one, each row's identifier is found by its shape and a whole number beside
// it is read as kg, a date as the retirement day. A row that cannot be read is a claim with
// Malformed set, never an error.
//
// Errors: ErrTooLarge (more than lim.MaxRows claims or lim.MaxBytes bytes; the text names the
// limit) and ErrNotText (NUL bytes or invalid UTF-8).
func Parse(r io.Reader, lim Limits) (*List, error) {
	lim = lim.withDefaults()
	data, err := readAtMost(r, lim.MaxBytes)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: it holds bytes that are not UTF-8 text (a spreadsheet or other binary file saved with a .csv name?); save it as CSV UTF-8 or paste the cells", ErrNotText)
	}
	sep := detectSep(data)
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = sep
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = false
	var records [][]string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// LazyQuotes leaves few errors; a line that still fails is kept as one cell so that
			// it gets a verdict (malformed) rather than failing the list.
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				records = append(records, []string{lineAt(data, pe.StartLine)})
				continue
			}
			return nil, err
		}
		if blank(rec) {
			continue
		}
		records = append(records, rec)
		if len(records) > lim.MaxRows+1 { // +1: the first may be a header
			break
		}
	}
	return FromRecords(records, string(sep), lim)
}

// readAtMost reads r whole, or fails with TooLargeBytes when it holds more than max bytes.
func readAtMost(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, TooLargeBytes(max)
	}
	return data, nil
}

// TooLargeBytes is the error of a list past the byte limit, naming it.
func TooLargeBytes(limit int64) error {
	return fmt.Errorf("%w: a list may have at most %s bytes (%s); split it into several", ErrTooLarge, groupDigits(limit), humanBytes(limit))
}

// FromRecords reads rows already split into cells (a parsed CSV, a JSON array, a sheet): the
// first is a header when it names columns. sep is how the rows' text is joined for display.
// Errors: ErrTooLarge past lim.MaxRows claims.
func FromRecords(records [][]string, sep string, lim Limits) (*List, error) {
	l := &List{Sep: sep}
	if len(records) > 0 {
		if roles, ok := headerRoles(records[0]); ok {
			l.Header, l.Roles = records[0], roles
			records = records[1:]
		}
	}
	return l.read(records, lim)
}

// read reads records as l's claims, by l's header when it has one, else by shape.
func (l *List) read(records [][]string, lim Limits) (*List, error) {
	lim = lim.withDefaults()
	if len(records) > lim.MaxRows {
		return nil, fmt.Errorf("%w: a list may have at most %s rows; split it into several", ErrTooLarge, groupDigits(int64(lim.MaxRows)))
	}
	l.Claims = make([]Claim, 0, len(records))
	for i, rec := range records {
		c := Claim{Row: i + 1, Cells: rec}
		if l.Header != nil {
			readWithHeader(&c, l.Roles)
		} else {
			readByShape(&c)
		}
		l.Claims = append(l.Claims, c)
	}
	return l, nil
}

// detectSep picks the separator from the first lines: a tab if any (a paste from a
// spreadsheet), else a semicolon when the first line has more of them than commas outside
// quotes, else a comma.
func detectSep(data []byte) rune {
	head := data[:min(len(data), 64<<10)]
	first, _, _ := bytes.Cut(head, []byte("\n"))
	tab, semi, comma, quoted := 0, 0, 0, false
	for _, c := range first {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '\t':
			tab++
		case c == ';':
			semi++
		case c == ',':
			comma++
		}
	}
	switch {
	case tab > 0 && tab >= max(semi, comma):
		return '\t'
	case semi > comma:
		return ';'
	}
	return ','
}

func lineAt(data []byte, line int) string {
	for i := 1; i < line; i++ {
		_, rest, ok := bytes.Cut(data, []byte("\n"))
		if !ok {
			return ""
		}
		data = rest
	}
	l, _, _ := bytes.Cut(data, []byte("\n"))
	return strings.TrimRight(string(l), "\r")
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimFunc(c, isJunk) != "" {
			return false
		}
	}
	return true
}

func isJunk(r rune) bool { return unicode.IsSpace(r) || registry.IsInvisible(r) }

// headerRoles recognises a header: at least one cell names a known column and no cell holds
// an identifier.
func headerRoles(rec []string) ([]Role, bool) {
	roles := make([]Role, len(rec))
	known := false
	for i, cell := range rec {
		if len(registry.ParseQuery(cell)) > 0 {
			return nil, false
		}
		name := strings.ToLower(strings.TrimFunc(cell, isJunk))
		name = strings.Map(func(r rune) rune {
			if r == ' ' || r == '-' {
				return '_'
			}
			return r
		}, name)
		if r, ok := headerNames[name]; ok {
			roles[i] = r
			known = true
		}
	}
	return roles, known
}

// readWithHeader reads a row by its header's roles. An identifier column that holds something
// of another kind (a ctb_ id under "serial") is read by its shape.
func readWithHeader(c *Claim, roles []Role) {
	for i, cell := range c.Cells {
		if i >= len(roles) {
			break
		}
		v := strings.TrimFunc(cell, isJunk)
		if v == "" {
			continue
		}
		switch roles[i] {
		case RoleSerial, RoleBatch, RoleRetirement:
			if c.Kind == KindNone {
				readIdentifier(c, v, roles[i])
			}
		case RoleKg:
			readKg(c, v)
		case RoleCredits:
			readCredits(c, v)
		case RoleBeneficiary:
			c.Beneficiary = v
		case RoleDate:
			readDate(c, v)
		}
	}
	if c.Kind == KindNone && len(c.Malformed) == 0 {
		c.Malformed = append(c.Malformed, "no serial number, credit batch id or retirement id in the row")
	}
}

// readByShape finds the identifier of a row without header by its shape, and beside it a
// whole number (kg) and a date.
func readByShape(c *Claim) {
	var firstBad string
	for _, cell := range c.Cells {
		v := strings.TrimFunc(cell, isJunk)
		if v == "" {
			continue
		}
		if c.Kind == KindNone {
			if ts := registry.ParseQuery(v); len(ts) > 0 {
				setTarget(c, ts[0])
				continue
			}
			if firstBad == "" && looksLikeIdentifier(v) {
				firstBad = v
				continue
			}
		}
		if isWholeNumber(v) && !c.HasKg {
			readKg(c, v)
			continue
		}
		if c.Date.IsZero() {
			if d, ok := parseDate(v); ok {
				c.Date = d
			}
		}
	}
	if c.Kind == KindNone {
		if firstBad != "" {
			readIdentifier(c, firstBad, RoleOther)
		} else {
			c.Malformed = append(c.Malformed, "no serial number, credit batch id or retirement id in the row")
		}
	}
}

// looksLikeIdentifier: a cell meant as an identifier that did not read (a serial with seven
// parts, an id too short), so that its row says what is wrong with it.
func looksLikeIdentifier(v string) bool {
	lv := strings.ToLower(v)
	return strings.HasPrefix(lv, "ctb_") || strings.HasPrefix(lv, "ret_") || strings.HasPrefix(lv, "iss_") ||
		strings.Count(v, "-") >= 4
}

func setTarget(c *Claim, t registry.Target) {
	switch t.Kind {
	case registry.TargetSerial:
		c.Kind, c.ID = KindSerial, t.Value
		c.Serial, _ = registry.ParseSerial(t.Value)
	case registry.TargetBatch:
		c.Kind, c.ID = KindBatch, t.Value
	case registry.TargetRetirement:
		c.Kind, c.ID = KindRetirement, t.Value
	default:
		c.Malformed = append(c.Malformed, fmt.Sprintf("%s is an issuance: a claim names a serial number, a credit batch or a retirement", t.Value))
	}
}

// readIdentifier reads an identifier cell, saying what is wrong with one that does not read:
// the serial parser's and the id check's own words.
func readIdentifier(c *Claim, v string, role Role) {
	if ts := registry.ParseQuery(v); len(ts) > 0 {
		setTarget(c, ts[0])
		return
	}
	lv := strings.ToLower(strings.Trim(v, "\"' "))
	var err error
	switch {
	case strings.HasPrefix(lv, "ctb_") || role == RoleBatch:
		err = registry.ValidateID(registry.PrefixCreditBatch, registry.RestoreCase(lv))
	case strings.HasPrefix(lv, "ret_") || role == RoleRetirement:
		err = registry.ValidateID(registry.PrefixRetirement, registry.RestoreCase(lv))
	default:
		_, err = registry.ParseSerial(v)
	}
	var se *registry.SerialError
	switch {
	case errors.As(err, &se):
		c.Malformed = append(c.Malformed, fmt.Sprintf("%q is not a serial number: %s", se.Input, se.Why))
	case err != nil:
		c.Malformed = append(c.Malformed, strings.TrimPrefix(err.Error(), registry.ErrInvalid.Error()+": "))
	default:
		c.Malformed = append(c.Malformed, fmt.Sprintf("%q names nothing a claim can name", registry.TruncateForError(v)))
	}
}
