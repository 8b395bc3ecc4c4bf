package algorithms_test

import (
	"testing"

	"github.com/grao-lab/grao/algorithms"
)

func TestSplitAblation(t *testing.T) {
	for _, tc := range []struct {
		label, base, part string
		ok                bool
	}{
		{"grao-no-imitation", "grao", "imitation", true}, // registered
		{"mine-no-baseline", "mine", "baseline", true},   // by convention
		{"MINE-No-Baseline", "MINE", "Baseline", true},
		{"grpo", "", "", false},
		{"-no-x", "", "", false},
		{"x-no-", "", "", false},
	} {
		base, part, ok := algorithms.SplitAblation(tc.label)
		if base != tc.base || part != tc.part || ok != tc.ok {
			t.Errorf("SplitAblation(%q) = %q, %q, %v; want %q, %q, %v", tc.label, base, part, ok, tc.base, tc.part, tc.ok)
		}
	}
	if algorithms.DisplayName("not-registered") != "not-registered" || algorithms.Rank("not-registered") <= algorithms.Rank("grao") {
		t.Error("an unknown name must keep its spelling and sort after the registered ones")
	}
	if algorithms.DisplayName("drgrpo") != "Dr. GRPO" {
		t.Errorf("drgrpo shows as %q", algorithms.DisplayName("drgrpo"))
	}
}
