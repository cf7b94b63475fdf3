package lineage_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

func walkDemo(t *testing.T, pick func(demo.Fixtures) string) (*demo.Registry, *lineage.Tree) {
	t.Helper()
	reg, c := newDemo(t, demo.Options{})
	tree, err := lineage.NewWalker(c, lineage.WalkerConfig{}).Lineage(context.Background(), pick(reg.Fixtures()), nil)
	if err != nil {
		t.Fatal(err)
	}
	return reg, tree
}

func TestJSONExportKeepsBigSizesExact(t *testing.T) {
	reg, tree := walkDemo(t, func(f demo.Fixtures) string { return f.BigKgRoot })
	raw, err := json.Marshal(tree.Export())
	if err != nil {
		t.Fatal(err)
	}
	// Decode with UseNumber so that the check itself cannot lose digits.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var got struct {
		Nodes []struct {
			ID    string
			Batch struct {
				CreditKgs json.Number `json:"credit_kgs"`
				Credits   string      `json:"credits"`
			}
		}
		Totals struct {
			RetiredKg json.Number `json:"retired_kg"`
			ActiveKg  json.Number `json:"active_kg"`
		}
		Summary struct {
			ConservedKg json.Number `json:"conserved_kg"`
			Clean       bool
		}
	}
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got.Nodes) != 3 {
		t.Fatalf("%d nodes, want 3", len(got.Nodes))
	}
	for _, n := range got.Nodes {
		want, _ := reg.Batch(n.ID)
		if n.Batch.CreditKgs.String() != strconv.FormatInt(want.Size.CreditKgs, 10) {
			t.Errorf("%s: credit_kgs %s, dataset %d", n.ID, n.Batch.CreditKgs, want.Size.CreditKgs)
		}
		if strings.ContainsAny(n.Batch.CreditKgs.String(), ".eE") {
			t.Errorf("credit_kgs %s is not a JSON integer", n.Batch.CreditKgs)
		}
	}
	root, _ := reg.Batch(tree.Root.ID)
	if got.Summary.ConservedKg.String() != strconv.FormatInt(root.Size.CreditKgs, 10) || !got.Summary.Clean {
		t.Errorf("summary %+v for a root of %d kg", got.Summary, root.Size.CreditKgs)
	}
}

func TestCSVExport(t *testing.T) {
	reg, tree := walkDemo(t, func(f demo.Fixtures) string { return f.HostileOrgBatch })
	var buf bytes.Buffer
	if err := lineage.WriteCSV(&buf, tree); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	if len(rows) != tree.Len()+1 {
		t.Fatalf("%d rows for %d nodes", len(rows), tree.Len())
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, row := range rows[1:] {
		want, ok := reg.Batch(row[col["id"]])
		if !ok {
			t.Fatalf("row for unknown batch %v", row)
		}
		if row[col["credit_kgs"]] != strconv.FormatInt(want.Size.CreditKgs, 10) || row[col["credits"]] != registry.FormatCredits(want.Size.CreditKgs) {
			t.Errorf("%s: kg %s / credits %s, dataset %d kg", want.ID, row[col["credit_kgs"]], row[col["credits"]], want.Size.CreditKgs)
		}
		if row[col["parent_id"]] != want.ParentID || row[col["serial_number"]] != want.SerialNumber {
			t.Errorf("%s: parent %q serial %q", want.ID, row[col["parent_id"]], row[col["serial_number"]])
		}
		if want.Owner.Name != "" && row[col["holder"]] != want.Owner.Name && row[col["holder"]] != "'"+want.Owner.Name {
			t.Errorf("%s: holder %q, owner %q", want.ID, row[col["holder"]], want.Owner.Name)
		}
	}
}

func TestCSVDefusesFormulas(t *testing.T) {
	b := &registry.CreditBatch{ID: "ctb_1DRBTYA8Q1S07CBY", SerialNumber: "ISO-1-X-1-2", Status: registry.StatusRetired,
		Size: registry.Quantity{CreditKgs: 1}, Owner: registry.Organisation{Name: `=HYPERLINK("http://evil","x")`},
		Beneficiary: &registry.Organisation{Name: "@SUM(A1)"}}
	tree := &lineage.Tree{Root: &lineage.Node{ID: b.ID, Batch: b}}
	var buf bytes.Buffer
	if err := lineage.WriteCSV(&buf, tree); err != nil {
		t.Fatal(err)
	}
	rows, _ := csv.NewReader(&buf).ReadAll()
	for _, c := range rows[1] {
		if c != "" && strings.ContainsRune("=+@", rune(c[0])) {
			t.Errorf("cell %q would run as a formula", c)
		}
	}
}

// A tree that does not add up says so: conserved false and conserved_kg null, never a 0 that
// would read as "0 kg conserved".
func TestExportOfATreeThatDoesNotAddUp(t *testing.T) {
	_, tree := walkDemo(t, func(f demo.Fixtures) string { return f.SizeMismatch })
	b, err := json.Marshal(tree.Export())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Summary map[string]json.RawMessage
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if string(got.Summary["conserved"]) != "false" || string(got.Summary["conserved_kg"]) != "null" {
		t.Errorf("summary of a size mismatch: conserved %s, conserved_kg %s", got.Summary["conserved"], got.Summary["conserved_kg"])
	}
}
