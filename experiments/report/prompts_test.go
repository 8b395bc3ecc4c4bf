package report

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// synthetic builds per-prompt outcomes: for each seed, n prompts of kind
// "e" (explore) then n of kind "i" (imitate); win(label, seed, kind, i)
// gives the judge reward.
func synthetic(labels []string, seeds []int64, n int, win func(label string, seed int64, kind string, i int) float64) *PromptData {
	pd := &PromptData{cells: map[[3]string]map[int64]*Outcomes{}}
	for _, l := range labels {
		k := [3]string{"t", "m", l}
		pd.cells[k] = map[int64]*Outcomes{}
		for _, s := range seeds {
			o := &Outcomes{Trial: l, Task: "t", Model: "m", Label: l, Seed: s}
			for _, kind := range []string{"e", "i"} {
				for i := range n {
					o.Rewards = append(o.Rewards, win(l, s, kind, i))
					o.StartRewards = append(o.StartRewards, -1)
					o.Scores = append(o.Scores, 0.5)
					o.Kinds = append(o.Kinds, kind)
					o.Regimes = append(o.Regimes, map[string]string{"e": "explore", "i": "imitate"}[kind])
				}
			}
			pd.cells[k][s] = o
		}
	}
	return pd
}

func TestComparePromptsVerdicts(t *testing.T) {
	seeds := []int64{1, 2, 3, 4, 5}
	// A wins 60% or 70% of explore prompts (odd and even seeds), B 20% or
	// 30% (seeds divisible by 3); on imitate A ties everywhere, B only on
	// a half (even seeds) or two thirds (odd) of the prompts.
	pd := synthetic([]string{"a", "b"}, seeds, 60, func(l string, s int64, kind string, i int) float64 {
		si := int(s)
		switch {
		case kind == "e" && l == "a":
			return map[bool]float64{true: 1, false: -1}[(i+si)%10 < 6+si%2]
		case kind == "e":
			return map[bool]float64{true: 1, false: -1}[(i+2*si)%10 < 2+map[bool]int{true: 1}[si%3 == 0]]
		case l == "b" && i%(2+si%2) == 0:
			return -1
		}
		return 0
	})
	specs := []CompareSpec{
		{A: "a", B: "b", Metric: "RAS", Kinds: []string{"explore"}, Predict: ">"},
		{A: "b", B: "a", Metric: "win_tie", Kinds: []string{"imitate"}, Predict: ">"},
		{A: "a", B: "b", Metric: "RAS", Kinds: []string{"i"}},
		{A: "a", B: "b", Metric: "reward"},
		{A: "a", B: "nope"},
	}
	cs := ComparePrompts(pd, []string{"t"}, []string{"m"}, []string{"a", "b"}, specs)
	if len(cs) != 5 {
		t.Fatalf("%d comparisons", len(cs))
	}
	c := cs[0]
	// A: seeds 1..5 at 70, 60, 70, 60, 70 → 66; B: 20, 20, 30, 20, 20 → 22.
	if c.Seeds != 5 || c.Prompts != 60 || math.Abs(c.MeanA-66) > 1e-9 || math.Abs(c.MeanB-22) > 1e-9 || math.Abs(c.Diff-44) > 1e-9 {
		t.Errorf("explore RAS: %+v", c)
	}
	if c.Verdict != "A > B" || c.Predicted != "as predicted" || !(c.CrossedHolm < 0.05) || !(c.McNemarHolm < 0.05) || !(c.SeedHolm < 0.05) {
		t.Errorf("explore RAS verdict: %+v", c)
	}
	// b's imitate win_tie is 2/3 (odd seeds) or 1/2 (even), a's 100%:
	// the prediction b > a fails.
	if c := cs[1]; c.Verdict != "A < B" || c.Predicted != "against the prediction" || math.Abs(c.Diff-(3*200.0/3+2*50)/5+100) > 1e-9 {
		t.Errorf("imitate win_tie: %+v", c)
	}
	// Both tie on every imitate prompt: RAS is 0 for both, no difference.
	if c := cs[2]; c.Verdict != "not separated" || c.Diff != 0 || c.McNemarP != 1 || c.Crossed.P != 1 {
		t.Errorf("imitate RAS: %+v", c)
	}
	if c := cs[3]; !math.IsNaN(c.McNemarP) || c.Verdict != "A > B" {
		t.Errorf("reward (not a rate: no McNemar): %+v", c)
	}
	if c := cs[4]; c.Verdict != "not tested" || !strings.Contains(c.Note, "nope") {
		t.Errorf("unknown label: %+v", c)
	}
	// Holm over the list: each family's adjusted p ≥ its raw p.
	for _, c := range cs[:4] {
		if c.CrossedHolm < c.Crossed.P || (!math.IsNaN(c.SeedP) && c.SeedHolm < c.SeedP) {
			t.Errorf("Holm below raw: %+v", c)
		}
	}
}

// One seed: the prompt-level tests run, the seed-level one cannot, so
// nothing is declared.
func TestComparePromptsOneSeed(t *testing.T) {
	pd := synthetic([]string{"a", "b"}, []int64{1}, 100, func(l string, _ int64, _ string, i int) float64 {
		if l == "a" && i%5 != 0 {
			return 1
		}
		return -1
	})
	cs := ComparePrompts(pd, []string{"t"}, []string{"m"}, []string{"a", "b"}, []CompareSpec{{A: "a", B: "b"}})
	c := cs[0]
	if c.Verdict != "not separated" || c.SeedNote == "" || !(c.Crossed.P < 0.01) || c.McNemarB != 160 || c.McNemarC != 0 {
		t.Errorf("%+v", c)
	}
	if !math.IsNaN(c.SeedMDE) || math.IsNaN(c.CrossedMDE) {
		t.Errorf("MDE prompts %v seeds %v", c.CrossedMDE, c.SeedMDE)
	}
	// Identical outcomes: no variation, so no MDE either.
	same := synthetic([]string{"a", "b"}, []int64{1, 2}, 10, func(string, int64, string, int) float64 { return 0 })
	if c := ComparePrompts(same, []string{"t"}, []string{"m"}, []string{"a", "b"}, []CompareSpec{{A: "a", B: "b"}})[0]; !math.IsNaN(c.CrossedMDE) || !math.IsNaN(c.SeedMDE) {
		t.Errorf("constant data: MDE %v / %v, want none", c.CrossedMDE, c.SeedMDE)
	}
}

// ReadPromptData reads a sweep directory's eval.json files and the
// report builds per-kind tables and comparisons from it.
func TestReadPromptDataAndKindTables(t *testing.T) {
	dir := t.TempDir()
	csv := "trial,task,model,algorithm,seed,metric,value\n"
	for _, l := range []string{"sft", "grpo"} {
		for s := 1; s <= 3; s++ {
			id := l + "-s" + string(rune('0'+s))
			wins := map[string]float64{"sft": 0, "grpo": 1}[l]
			ev := map[string]any{"trial": id, "rewards": []float64{wins, wins, 0, -1}, "start_rewards": []float64{-1, -1, -1, -1},
				"scores": []float64{1, 1, 1, 0}, "kinds": []string{"x", "x", "f", "f"}, "regimes": []string{"explore", "explore", "imitate", "imitate"}}
			b, _ := json.Marshal(ev)
			if err := os.MkdirAll(filepath.Join(dir, "runs", id), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "runs", id, "eval.json"), b, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, m := range []string{"RAS", "RAS@x", "RAS@f", "RAS@explore", "win_tie@x"} {
				v := 0.0
				if l == "grpo" && strings.Contains("RAS RAS@x RAS@explore", m) {
					v = 50 + float64(s)
				}
				csv += id + ",t,m," + l + "," + string(rune('0'+s)) + "," + m + "," + num(v) + "\n"
			}
		}
	}
	res, err := Read(strings.NewReader(csv), "results.csv")
	if err != nil {
		t.Fatal(err)
	}
	pd, missing, err := ReadPromptData(dir, res)
	if err != nil || missing != 0 {
		t.Fatal(missing, err)
	}
	opts := DefaultOptions()
	opts.Target, opts.Prompts = "grpo", pd
	rep, err := Build(res, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Tables) != 1 || len(rep.Tables[0].Rows) != 1 || rep.Tables[0].Rows[0].Metric != "RAS" {
		t.Errorf("main table should hold RAS only: %+v", rep.Tables)
	}
	if len(rep.KindTables) != 2 || strings.Join(rep.KindTables[0].Kinds, ",") != "explore,x,f" {
		t.Fatalf("kind tables %+v", rep.KindTables)
	}
	if len(rep.PromptComparisons) != 1 || rep.PromptComparisons[0].Diff != 50 || rep.PromptComparisons[0].Prompts != 4 {
		t.Errorf("default comparison (target vs baseline on RAS): %+v", rep.PromptComparisons)
	}
	var md strings.Builder
	if err := rep.Render(&md, Markdown); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## By kind: RAS on t / m", "| explore |", "## Comparisons per prompt and over seeds", "GRPO vs SFT"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	// A missing eval.json is counted, not fatal.
	if err := os.RemoveAll(filepath.Join(dir, "runs", "sft-s1")); err != nil {
		t.Fatal(err)
	}
	if _, missing, err := ReadPromptData(dir, res); err != nil || missing != 1 {
		t.Errorf("missing %d, err %v", missing, err)
	}
}
