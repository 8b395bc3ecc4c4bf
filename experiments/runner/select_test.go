package runner_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/sweep"
)

const selectSweep = `name = "sel"
seeds = [1, 2]
[model]
preset = "small"
d_model = 32
n_layer = 1
[task]
name = "skills"
kinds = ["first-letter", "capital"]
train_size = 40
eval_size = 8
dev_size = 4
band = [0.0, 1.0]
[pretrain]
steps = 10
[train]
steps = 2
prompts = 2
max_new_tokens = 8
[eval]
max_new_tokens = 8
[calibrate]
prompts = 2
samples = 4
[reward]
kind = "dense"
[select]
"train.lr" = [1e-4, 1e-3]
seeds = [7]
[[algorithm]]
name = "sft"
[[algorithm]]
name = "grpo"
g = 2
`

// A sweep with [select] runs each algorithm's grid points on the dev
// split, records the choice, and runs the main trials with it; a resumed
// run keeps every trial and makes the same choice.
func TestSelectionPhase(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "s.toml")
	if err := os.WriteFile(path, []byte(selectSweep), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(resume bool) runner.Summary {
		sw, err := sweep.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sw.Resolve()
		sum, err := runner.RunSweep(context.Background(), sw, runner.Options{SweepPath: path, Out: filepath.Join(dir, "out"), Workers: 2, Resume: resume})
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	sum := run(false)
	if sum.Total != 8 || sum.Ran != 8 || sum.Failed != 0 {
		t.Fatalf("summary %+v: want 4 selection + 4 main trials", sum)
	}
	var sel runner.Selection
	raw, err := os.ReadFile(filepath.Join(dir, "out", runner.SelectionFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &sel); err != nil {
		t.Fatal(err)
	}
	if sel.Metric != "reward" || len(sel.Groups) != 2 {
		t.Fatalf("selection %+v", sel)
	}
	for _, g := range sel.Groups {
		if len(g.Tried) != 2 || len(g.Tried[0].Trials) != 1 || !strings.Contains(g.Tried[0].Trials[0], "-s7-") {
			t.Errorf("group %s tried %+v", g.Label, g.Tried)
		}
		best := g.Tried[0]
		if g.Tried[1].Score > best.Score {
			best = g.Tried[1]
		}
		if !reflect.DeepEqual(g.Chosen, best.Values) {
			t.Errorf("group %s chose %v, best is %+v", g.Label, g.Chosen, best)
		}
		// Selection trials evaluate on the dev split.
		var ev runner.EvalFile
		b, _ := os.ReadFile(filepath.Join(dir, "out", "runs", g.Tried[0].Trials[0], "eval.json"))
		if err := json.Unmarshal(b, &ev); err != nil || ev.Split != "dev" || len(ev.Rewards) != 4 {
			t.Errorf("selection trial eval: split %q, %d prompts, err %v", ev.Split, len(ev.Rewards), err)
		}
	}
	// results.csv holds the 4 main trials, each with its chosen lr.
	csv, _ := os.ReadFile(filepath.Join(dir, "out", "results.csv"))
	if strings.Contains(string(csv), "-s7-") {
		t.Error("results.csv holds selection trials")
	}
	trialsSeen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(csv)), "\n")[1:] {
		trialsSeen[strings.Split(line, ",")[0]] = true
	}
	if len(trialsSeen) != 4 {
		t.Fatalf("results.csv has %d trials, want 4", len(trialsSeen))
	}
	for id := range trialsSeen {
		b, err := os.ReadFile(filepath.Join(dir, "out", "runs", id, "config.toml"))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := sweep.DecodeTrial(b, id)
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]string
		for _, g := range sel.Groups {
			if g.Label == tr.Label {
				want = g.Chosen
			}
		}
		if !reflect.DeepEqual(tr.Selected, want) || tr.Eval.Split != "eval" {
			t.Errorf("%s: selected %v split %q, want %v on eval", id, tr.Selected, tr.Eval.Split, want)
		}
		m := manifest(t, dir, id)
		if m.Calibration == nil || m.Calibration.Placement == nil || m.Calibration.Levels["first-letter"] == 0 ||
			len(m.Calibration.Table.Kinds) != 2 || m.LossTemperature == 0 {
			t.Errorf("%s: manifest calibration %+v, loss temperature %v", id, m.Calibration, m.LossTemperature)
		}
	}
	// A cluster array task runs one selection trial; with the others
	// missing it makes no choice, and that is not an error.
	dir2 := t.TempDir()
	sw, err := sweep.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sw.Resolve()
	selTrials, err := sw.SelectionTrials()
	if err != nil {
		t.Fatal(err)
	}
	s1, err := runner.RunSweep(context.Background(), sw, runner.Options{SweepPath: path, Out: filepath.Join(dir2, "out"), Workers: 1, Only: []string{selTrials[0].ID}})
	if err != nil || s1.Ran != 1 {
		t.Errorf("one selection trial: %+v, %v", s1, err)
	}
	if _, err := os.Stat(filepath.Join(dir2, "out", runner.SelectionFile)); err == nil {
		t.Error("a choice was made from one of four selection trials")
	}
	if _, err := runner.RunSweep(context.Background(), sw, runner.Options{SweepPath: path, Out: filepath.Join(dir2, "out"), Only: []string{"sft-s1-00000000"}}); err == nil {
		t.Error("an unknown trial ID was accepted")
	}

	again := run(true)
	if again.Ran != 0 || again.Skipped != 8 {
		t.Errorf("resume %+v: want everything kept", again)
	}
	raw2, _ := os.ReadFile(filepath.Join(dir, "out", runner.SelectionFile))
	if string(raw2) != string(raw) {
		t.Error("the resumed run chose differently")
	}
}
