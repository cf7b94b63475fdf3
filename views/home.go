package views

import (
	"strings"

	"github.com/lineage-explorer/explorer/registry"
)

// Example is a page worth opening, listed on the home page (the demo registry's fixtures).
type Example struct {
	Label       string // what it shows, e.g. "A chain 300 splits deep"
	ID          string // a credit batch, issuance or retirement id, or a serial number (see ExampleURL)
	Description string // one sentence
}

// HomePage is the search box and the guide.
type HomePage struct {
	Base
	ExampleID     string    // a well-formed batch id, shown as the expected shape (it names nothing)
	ExampleSerial string    // a well-formed serial number, likewise only a shape
	Examples      []Example // batches worth opening (demo mode)
	// Registry is what the last readiness check learnt of the registry, so that a reader is
	// told before searching that searches will fail, rather than after.
	Registry RegistryState
	// ClaimsSample is whether the claims check can be filled with a sample list (the demo's).
	ClaimsSample bool
	// DemoChangeEvery is how often the demo registry changes, formatted; "" when it does not.
	DemoChangeEvery string
}

// DemoExample is the first example whose id is of the kind prefix names (registry.PrefixIssuance,
// say; "" for a serial number), when the page runs on the demo registry: a real value to open
// next to the made-up shape, which the demo does not have.
func (p HomePage) DemoExample(prefix string) (Example, bool) {
	if !p.Demo {
		return Example{}, false
	}
	for _, e := range p.Examples {
		if exampleKind(e.ID) == prefix {
			return e, true
		}
	}
	return Example{}, false
}

// exampleKind is the id prefix of an example's value, or "" for a serial number (as ExampleURL
// tells them apart).
func exampleKind(id string) string {
	for _, p := range []string{registry.PrefixCreditBatch, registry.PrefixIssuance, registry.PrefixRetirement} {
		if strings.HasPrefix(id, p+"_") {
			return p
		}
	}
	return ""
}

// RegistryState is what the readiness check last learnt of the registry, in kinds the page
// words itself: upstream text never reaches the notice, and neither can a credential.
type RegistryState int

// The states of the registry a page warns about. RegistryOK also stands for "not known yet".
const (
	RegistryOK          RegistryState = iota
	RegistryCredentials               // it rejected the configured access token or client secret
	RegistryThrottled                 // it asks us to slow down
	RegistryUnreachable               // it failed, timed out or could not be reached
)
