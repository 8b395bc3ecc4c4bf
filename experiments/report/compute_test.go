package report

import (
	"github.com/grao-lab/grao/experiments/aggregate"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTrial(t *testing.T, dir, id string, files map[string]string) {
	t.Helper()
	td := filepath.Join(dir, "runs", id)
	if err := os.MkdirAll(td, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(td, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadCompute(t *testing.T) {
	dir := t.TempDir()
	cfg := "[params]\ng = 4\nepochs = 2\n[train]\nprompts = 2\n"
	// A run with the counters, and a run from before them (derived).
	writeTrial(t, dir, "grpo-s1-a", map[string]string{
		"config.toml":   cfg,
		"manifest.json": `{"seconds": 12.5, "trial_rss_mib": 300, "peak_rss_mib": 900, "workers": 2}`,
		"metrics.jsonl": `{"step":0,"eval":{"reward":-0.5}}
{"step":1,"loss":0.1,"reward_mean":0,"length_mean":3,"compute":{"samples":8,"generated_tokens":24,"scored_tokens":48}}
{"step":2,"loss":0.1,"reward_mean":0,"length_mean":5,"compute":{"samples":8,"generated_tokens":40,"scored_tokens":80}}
{"step":2,"eval":{"reward":0.5}}
`})
	writeTrial(t, dir, "grpo-s2-b", map[string]string{
		"config.toml":   cfg,
		"manifest.json": `{"seconds": 10, "peak_rss_mib": 5000}`,
		"metrics.jsonl": `{"step":0,"eval":{"reward":0}}
{"step":1,"loss":0.1,"reward_mean":0,"length_mean":2.5}
{"step":1,"eval":{"reward":0.25}}
`})
	res := &Results{Rows: []Row{
		{Trial: "grpo-s1-a", Task: "t", Model: "m", Algorithm: "grpo", Seed: 1, Metric: "RAS"},
		{Trial: "grpo-s2-b", Task: "t", Model: "m", Algorithm: "grpo", Seed: 2, Metric: "RAS"},
	}}
	cd, err := ReadCompute(dir, res)
	if err != nil {
		t.Fatal(err)
	}
	a, b := cd.cells[[3]string{"t", "m", "grpo"}][1], cd.cells[[3]string{"t", "m", "grpo"}][2]
	if a.Updates != 4 || a.Samples != 16 || a.Generated != 64 || a.Scored != 128 || a.Seconds != 12.5 || a.PeakRSSMiB != 300 || a.RewardGain != 1 || a.Derived {
		t.Errorf("logged: %+v", a)
	}
	// Derived: 4 × 2 samples of mean length 2.5.
	if b.Updates != 2 || b.Samples != 8 || b.Generated != 20 || !math.IsNaN(b.Scored) || !math.IsNaN(b.PeakRSSMiB) || b.RewardGain != 0.25 || !b.Derived {
		t.Errorf("derived: %+v", b)
	}
	tabs := BuildCompute(cd, []string{"t"}, []string{"m"}, []string{"grpo"})
	if len(tabs) != 1 || len(tabs[0].Rows) != 1 {
		t.Fatalf("tables %+v", tabs)
	}
	r := tabs[0].Rows[0]
	if r.Seeds != 2 || r.Generated != 42 || !r.Derived || r.Workers != 2 || !nearRel(r.GainPer1k, 0.625/0.042) {
		t.Errorf("row %+v", r)
	}
	writeTrial(t, dir, "grpo-s3-c", map[string]string{"config.toml": cfg, "metrics.jsonl": "{bad\n"})
	res.Rows = append(res.Rows, Row{Trial: "grpo-s3-c", Task: "t", Model: "m", Algorithm: "grpo", Seed: 3, Metric: "RAS"})
	if _, err := ReadCompute(dir, res); err == nil {
		t.Error("a malformed metrics.jsonl: no error")
	}
}

func TestBuildAggregates(t *testing.T) {
	kinds := []string{"k1", "k1", "k2", "k2"}
	o := func(seed int64, rewards ...float64) *Outcomes {
		return &Outcomes{Seed: seed, Rewards: rewards, StartRewards: []float64{1, -1, -1, -1}, Kinds: kinds}
	}
	pd := &PromptData{cells: map[[3]string]map[int64]*Outcomes{
		{"t", "m", "a"}: {1: o(1, 1, 1, 1, -1), 2: o(2, 1, -1, 1, 1)},
		{"t", "m", "b"}: {1: o(1, -1, -1, -1, -1), 2: o(2, 1, 1, -1, -1)},
	}}
	tabs, notes := BuildAggregates(pd, []string{"t"}, []string{"m"}, []string{"a", "b"}, nil, "RAS", aggregateBoot())
	if len(tabs) != 1 || len(notes) != 0 {
		t.Fatalf("tables %d, notes %v", len(tabs), notes)
	}
	tab := tabs[0]
	// Base RAS: k1 50, k2 0.
	if len(tab.Kinds) != 2 || tab.Base[0] != 50 || tab.Base[1] != 0 {
		t.Fatalf("kinds %v base %v", tab.Kinds, tab.Base)
	}
	// a: seed 1 k1 100 → 1, k2 50 → 0.5; seed 2 k1 50 → 0, k2 100 → 1.
	want := [][]float64{{1, 0.5}, {0, 1}}
	for i := range want {
		for j := range want[i] {
			if tab.Rows[0].Scores[i][j] != want[i][j] {
				t.Errorf("a seed %d kind %d: %v, want %v", i, j, tab.Rows[0].Scores[i][j], want[i][j])
			}
		}
	}
	// b seed 1: k1 0 → −1.
	if tab.Rows[1].Scores[0][0] != -1 {
		t.Errorf("b seed 1 k1 %v, want −1", tab.Rows[1].Scores[0][0])
	}
	if len(tab.Improvement) != 1 || tab.Improvement[0].X != "a" || !(tab.Improvement[0].P.Point > 0.5) {
		t.Errorf("improvement %+v", tab.Improvement)
	}
	if r := tab.Rows[0]; !(r.IQM.Lo <= r.IQM.Point && r.IQM.Point <= r.IQM.Hi) || len(r.Profile) != len(tab.Taus) {
		t.Errorf("row %+v", r)
	}
}

func aggregateBoot() aggregate.Bootstrap { return aggregate.Bootstrap{Resamples: 500, Seed: 1} }

// One seed per kind gives no interval: the tables must not print the
// degenerate resamples as if they were one, nor read an order from them.
func TestAggregatesOneSeed(t *testing.T) {
	o := func(rewards ...float64) map[int64]*Outcomes {
		return map[int64]*Outcomes{1: {Seed: 1, Rewards: rewards, StartRewards: []float64{1, -1, -1, -1}, Kinds: []string{"k1", "k1", "k2", "k2"}}}
	}
	pd := &PromptData{cells: map[[3]string]map[int64]*Outcomes{{"t", "m", "a"}: o(1, 1, 1, -1), {"t", "m", "b"}: o(-1, -1, 1, 1)}}
	tabs, _ := BuildAggregates(pd, []string{"t"}, []string{"m"}, []string{"a", "b"}, nil, "RAS", aggregateBoot())
	r := &Report{Aggregates: tabs, Opts: DefaultOptions()}
	var b strings.Builder
	for _, g := range r.aggregateGrids() {
		for _, row := range g.rows {
			b.WriteString(strings.Join(row, " | ") + "\n")
		}
	}
	if out := b.String(); !strings.Contains(out, "(one seed)") || !strings.Contains(out, "one seed: no interval, no reading") || strings.Contains(out, "likely better") {
		t.Errorf("one-seed aggregates:\n%s", out)
	}
}
