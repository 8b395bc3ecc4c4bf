package plots

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestStatFigures: with per-kind outcomes and pass@k counts, bench plot
// adds the performance profiles, the IQM and optimality-gap intervals
// and the pass@k curves.
func TestStatFigures(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "sweep"))); err != nil {
		t.Fatal(err)
	}
	evals, err := filepath.Glob(filepath.Join(dir, "runs", "*", "eval.json"))
	if err != nil || len(evals) == 0 {
		t.Fatalf("fixture: %v %v", evals, err)
	}
	for _, path := range evals {
		raw, _ := os.ReadFile(path)
		var ev map[string]any
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		rewards, _ := ev["rewards"].([]any)
		var kinds, regimes []string
		var correct, wins []int
		for i, r := range rewards {
			kinds = append(kinds, []string{"first", "second"}[i%2])
			regimes = append(regimes, "explore")
			c := 2 + i%3
			if r.(float64) > 0 {
				c = 4
			}
			correct, wins = append(correct, c), append(wins, c/2)
		}
		ev["kinds"], ev["regimes"] = kinds, regimes
		ev["start_rewards"] = rewards
		b, _ := json.Marshal(ev)
		os.WriteFile(path, b, 0o644)
		pk, _ := json.Marshal(map[string]any{"k": 4, "temperature": 0.7, "correct": correct, "wins": wins, "kinds": kinds, "regimes": regimes})
		os.WriteFile(filepath.Join(filepath.Dir(path), "passk.json"), pk, 0o644)
	}
	o := DefaultOptions()
	o.Formats = []string{"svg"}
	figs, notes, err := All(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
	}
	for _, want := range []string{"profiles_", "iqm_", "gap_", "passk_"} {
		if !slices.ContainsFunc(names, func(n string) bool { return len(n) > len(want) && n[:len(want)] == want }) {
			t.Errorf("no %s… figure among %v (notes %v)", want, names, notes)
		}
	}
}
