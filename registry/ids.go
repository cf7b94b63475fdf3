package registry

import (
	"fmt"
	"strings"
)

// ID prefixes of the upstream's object kinds, as in "ctb_1DRBTYA8Q1S07CBY".
const (
	PrefixCreditBatch  = "ctb"
	PrefixIssuance     = "iss"
	PrefixRetirement   = "ret"
	PrefixOrganisation = "org"
	PrefixProject      = "prj"
	PrefixSupplier     = "spl"
	PrefixDelivery     = "dlv"
)

// The upstream's ids are 20 to 37 characters: a three-letter prefix, an underscore and 16 to 33
// letters or digits (OpenAPI IsometricIDRequestParam: minLength 20, maxLength 37).
const (
	idMinLen = 20
	idMaxLen = 37
)

// ValidateID reports whether id is well formed for the given prefix (e.g. PrefixCreditBatch).
// It returns nil, or an error wrapping ErrInvalid that says what a valid id looks like (and
// names digits of other scripts, which are not read as 0–9). It never contacts the upstream,
// so malformed input is rejected before anything is sent. It is strict: ids typed by people
// go through CanonicalID first, which folds full-width forms.
func ValidateID(prefix, id string) error {
	if len(id) < idMinLen || len(id) > idMaxLen || len(id) < len(prefix)+1 ||
		id[:len(prefix)] != prefix || id[len(prefix)] != '_' {
		return invalidID(prefix, id)
	}
	for i := len(prefix) + 1; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return invalidID(prefix, id)
		}
	}
	return nil
}

// ExampleID is a well-formed id of the given kind, for messages that show what a valid one looks
// like. It is only a shape: it names nothing, in the demo registry or (as far as known) upstream,
// so wherever it is shown it is labelled as such ("looks like", "made up").
func ExampleID(prefix string) string { return prefix + "_1DRBTYA8Q1S07CBY" }

func invalidID(prefix, id string) error {
	if d := OtherDigits(id); d != "" {
		return fmt.Errorf("%w: %q is not a valid %s id: it has %s, and an id is written with the digits 0–9 (expected %q followed by 16 to 33 letters or digits, like %s)",
			ErrInvalid, TruncateForError(id), prefix, d, prefix+"_", ExampleID(prefix))
	}
	return fmt.Errorf("%w: %q is not a valid %s id (expected %q followed by 16 to 33 letters or digits, like %s)",
		ErrInvalid, TruncateForError(id), prefix, prefix+"_", ExampleID(prefix))
}

// CanonicalID is an id as a person typed it, in the form the registry uses: full-width forms
// folded to ASCII (FoldWidth), surrounding white space dropped, the case a spreadsheet's LOWER()
// or UPPER() changed restored (RestoreCase), then checked by ValidateID.
func CanonicalID(prefix, typed string) (string, error) {
	id := RestoreCase(strings.TrimSpace(FoldWidth(typed)))
	if err := ValidateID(prefix, id); err != nil {
		return "", err
	}
	return id, nil
}
