package lineage_test

import (
	"context"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

func TestFormatKgGroupsThousandsExactly(t *testing.T) {
	for kg, want := range map[int64]string{
		0:                  "0",
		999:                "999",
		1_000:              "1,000",
		-1_000:             "-1,000",
		45_000_000:         "45,000,000",
		1<<53 + 1:          "9,007,199,254,740,993", // past float64's exact integers
		math.MaxInt64:      "9,223,372,036,854,775,807",
		math.MinInt64:      "-9,223,372,036,854,775,808",
		-123_456:           "-123,456",
		12_446:             "12,446",
		100_000:            "100,000",
		1_000_000_000_000:  "1,000,000,000,000",
		-9_999_999_999_999: "-9,999,999,999,999",
	} {
		if got := lineage.FormatKg(kg); got != want {
			t.Errorf("FormatKg(%d) = %q, want %q", kg, got, want)
		}
	}
}

// The audit's size figures read like the pages' figures: grouped, never a bare run of digits.
func TestAuditDetailsGroupKg(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tree, err := lineage.NewWalker(c, lineage.WalkerConfig{}).Lineage(ctx, reg.Fixtures().SizeMismatch, nil)
	if err != nil {
		t.Fatal(err)
	}
	var detail string
	for _, p := range tree.Problems {
		if p.Kind == lineage.ProblemSizeMismatch {
			detail = p.Detail
		}
	}
	if detail == "" {
		t.Fatalf("no size mismatch found: %v", tree.Problems)
	}
	parent, ok := reg.Batch(reg.Fixtures().SizeMismatch)
	if !ok {
		t.Fatal("the demo has no size-mismatch batch")
	}
	if want := lineage.FormatKg(parent.Size.CreditKgs) + " kg,"; !strings.Contains(detail, want) {
		t.Errorf("detail %q does not give the parent's size as %q", detail, want)
	}
	if !strings.Contains(detail, "1,000 kg short") {
		t.Errorf("detail %q does not say 1,000 kg short", detail)
	}
	// Four digits or more in a row before "kg" is an ungrouped figure.
	if m := regexp.MustCompile(`\d{4,} kg`).FindString(detail); m != "" {
		t.Errorf("detail %q has an ungrouped figure %q", detail, m)
	}
}
