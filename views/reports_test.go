package views

import (
	"strconv"
	"strings"
	"testing"
)

func TestFoldPathKeepsBothEndsAndBoundsTheMiddle(t *testing.T) {
	for _, n := range []int{1, 2, 11, 12, 20, 3 + 6 + maxPathMiddle, 3 + 6 + maxPathMiddle + 1, 321} {
		rows := make([]NodeRow, n)
		for i := range rows {
			rows[i] = NodeRow{ID: strconv.Itoa(i), Depth: i}
		}
		pv, hidden := foldPath(rows)
		shown := len(pv.Head) + len(pv.Middle) + len(pv.Tail)
		if shown+hidden != n || pv.Len != n {
			t.Errorf("%d steps: %d shown + %d hidden, Len %d", n, shown, hidden, pv.Len)
		}
		if pv.Head[0].ID != "0" {
			t.Errorf("%d steps: the root is not first", n)
		}
		last := pv.Head
		if len(pv.Tail) > 0 {
			last = pv.Tail
		}
		if last[len(last)-1].ID != strconv.Itoa(n-1) {
			t.Errorf("%d steps: the batch is not last", n)
		}
		if len(pv.Middle) > maxPathMiddle || hidden > 0 && len(pv.Middle) > 0 {
			t.Errorf("%d steps: middle %d, hidden %d", n, len(pv.Middle), hidden)
		}
	}
}

func TestCheckSumSaysWhichWay(t *testing.T) {
	for _, tc := range []struct {
		got, want int64
		missing   int
		state     string
		says      string
	}{
		{1_000, 1_000, 0, "ok", "1,000 kg exactly"},
		{900, 1_000, 0, "bad", "100 kg less"},
		{1_250, 1_000, 0, "bad", "250 kg more"},
		{900, 1_000, 2, "unknown", "2 batches are missing"},
		{1 << 60, 1<<60 + 1, 0, "bad", "1 kg less"}, // past 2^53: exact
	} {
		c := checkSum(tc.got, tc.want, tc.missing, "the batches", "the root’s")
		if c.State != tc.state || !strings.Contains(c.Text, tc.says) {
			t.Errorf("checkSum(%d, %d, %d) = %+v", tc.got, tc.want, tc.missing, c)
		}
	}
}

func TestExampleURL(t *testing.T) {
	for id, want := range map[string]string{
		"ctb_1DRBTYA8Q1S07CBY":                   "/batches/ctb_1DRBTYA8Q1S07CBY",
		"iss_1DRBTYA8Q1S07CBY":                   "/issuances/iss_1DRBTYA8Q1S07CBY",
		"ret_1DRBTYA8Q1S07CBY":                   "/retirements/ret_1DRBTYA8Q1S07CBY",
		"ISO-1-BSTORE-GBR-F5X7-2024-78177-81177": "/serial/ISO-1-BSTORE-GBR-F5X7-2024-78177-81177",
	} {
		if got := ExampleURL(Example{ID: id}); got != want {
			t.Errorf("ExampleURL(%s) = %s, want %s", id, got, want)
		}
	}
}
