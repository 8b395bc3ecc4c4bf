package runner_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/sweep"
)

const controlSweep = `name = "ctl"
seeds = [1]
controls = ["base", "random-reward"]
[model]
preset = "tiny"
[task]
name = "arith"
digits = 1
train_size = 200
eval_size = 40
[pretrain]
steps = 10
[train]
steps = 2
prompts = 2
max_new_tokens = 16
[eval]
prompts = 6
max_new_tokens = 16
[[algorithm]]
name = "grpo"
g = 2
`

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestControlsAndPassK runs a sweep with control arms, then adds [passk]
// and resumes: the finished trials get their pass@k counts from their
// saved policies without being trained again.
func TestControlsAndPassK(t *testing.T) {
	dir := t.TempDir()
	_, trials := runSweep(t, dir, controlSweep)
	byLabel := map[string]sweep.Trial{}
	for _, tr := range trials {
		byLabel[tr.Label] = tr
	}
	if len(byLabel) != 3 {
		t.Fatalf("labels %v", byLabel)
	}
	out := filepath.Join(dir, "out")
	base := manifest(t, dir, byLabel["base"].ID)
	if base.Control != sweep.ControlBase || base.Status != runner.StatusDone {
		t.Errorf("base manifest: control %q, status %q", base.Control, base.Status)
	}
	lines, err := os.ReadFile(filepath.Join(out, "runs", byLabel["base"].ID, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(lines), "\n"); n != 1 || strings.Contains(string(lines), `"loss"`) {
		t.Errorf("the base arm trains nothing; metrics.jsonl:\n%s", lines)
	}
	rnd := manifest(t, dir, byLabel["grpo-random"].ID)
	if rnd.ControlOf != "grpo" || len(rnd.Reward) != 1 || !strings.HasPrefix(rnd.Reward[0].Name, "random") {
		t.Errorf("random arm manifest: control of %q, reward %+v", rnd.ControlOf, rnd.Reward)
	}
	if rnd.TrialRSSMiB <= 0 || rnd.PeakRSSMiB < rnd.TrialRSSMiB || rnd.Workers != 1 {
		t.Errorf("RSS during the trial %g MiB, process peak %g MiB, workers %d", rnd.TrialRSSMiB, rnd.PeakRSSMiB, rnd.Workers)
	}
	// The step log counts the work: 2 prompts × G = 2 samples per step.
	var step struct {
		Compute struct{ Samples, Generated, Scored int } `json:"compute"`
	}
	ml, _ := os.ReadFile(filepath.Join(out, "runs", byLabel["grpo"].ID, "metrics.jsonl"))
	if err := json.Unmarshal([]byte(strings.Split(string(ml), "\n")[1]), &step); err != nil {
		t.Fatal(err)
	}
	if step.Compute.Samples != 4 {
		t.Errorf("compute %+v, want 4 samples", step.Compute)
	}
	res, _ := os.ReadFile(filepath.Join(out, "results.csv"))
	if !strings.HasPrefix(string(res), "trial,task,model,algorithm,seed,metric,value,control,control_of\n") ||
		!strings.Contains(string(res), ",random-reward,grpo\n") {
		t.Errorf("results.csv lacks the control columns:\n%.300s", res)
	}
	for _, tr := range trials {
		if _, err := os.Stat(filepath.Join(out, "runs", tr.ID, runner.PassKName)); err == nil {
			t.Errorf("%s: passk.json without [passk]", tr.ID)
		}
	}

	// Add [passk] and resume.
	started := map[string]string{}
	for _, tr := range trials {
		started[tr.ID] = manifest(t, dir, tr.ID).Start.String()
	}
	path := filepath.Join(dir, "s.toml")
	if err := os.WriteFile(path, []byte(controlSweep+"[passk]\nk = 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sw, err := sweep.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sw.Resolve()
	again, err := sw.Expand()
	if err != nil {
		t.Fatal(err)
	}
	// An edited sweep is refused on resume unless forced, with the diff.
	_, err = runner.Run(context.Background(), sw, again, runner.Options{SweepPath: path, Out: out, Workers: 1, Resume: true})
	if !errors.Is(err, runner.ErrMismatch) || !strings.Contains(err.Error(), "+ [passk]") {
		t.Fatalf("resume with an edited sweep: %v, want a mismatch showing the added lines", err)
	}
	sum, err := runner.Run(context.Background(), sw, again, runner.Options{SweepPath: path, Out: out, Workers: 1, Resume: true, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	prov, err := os.ReadFile(filepath.Join(out, "provenance.json"))
	if err != nil || !strings.Contains(string(prov), `"forced"`) {
		t.Errorf("the forced resume is not recorded: %s %v", prov, err)
	}
	if sum.Ran != 0 || sum.Skipped != 3 {
		t.Errorf("resume with [passk] ran %d trials and kept %d; want 0 and 3 (same IDs)", sum.Ran, sum.Skipped)
	}
	for _, tr := range again {
		var pk runner.PassKFile
		readJSONFile(t, filepath.Join(out, "runs", tr.ID, runner.PassKName), &pk)
		if pk.K != 4 || len(pk.Correct) != 6 || pk.Temperature != 0.7 || pk.Seed != 1 {
			t.Errorf("%s: passk.json k %d, %d prompts, temperature %g, seed %d", tr.ID, pk.K, len(pk.Correct), pk.Temperature, pk.Seed)
		}
		for i := range pk.Correct {
			if pk.Correct[i] < pk.Wins[i] || pk.Correct[i] > 4 {
				t.Errorf("%s: prompt %d: %d correct, %d wins of 4", tr.ID, i, pk.Correct[i], pk.Wins[i])
			}
		}
		if m := manifest(t, dir, tr.ID); m.Start.String() != started[tr.ID] || m.Status != runner.StatusDone {
			t.Errorf("%s: status %q, started %s (was %s): retrained?", tr.ID, m.Status, m.Start, started[tr.ID])
		}
	}
}

// A done trial whose eval.json is damaged is redone on --resume, and the
// sweep collects as usual.
func TestResumeRedoesDamagedEval(t *testing.T) {
	dir := t.TempDir()
	_, trials := runSweep(t, dir, controlSweep)
	out := filepath.Join(dir, "out")
	victim := trials[0].ID
	if err := os.WriteFile(filepath.Join(out, "runs", victim, "eval.json"), []byte(`{"schema": 2, "trial": "`), 0o644); err != nil {
		t.Fatal(err)
	}
	sw, err := sweep.ParseFile(filepath.Join(dir, "s.toml"))
	if err != nil {
		t.Fatal(err)
	}
	sw.Resolve()
	sum, err := runner.Run(context.Background(), sw, trials, runner.Options{SweepPath: filepath.Join(dir, "s.toml"), Out: out, Workers: 1, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ran != 1 || sum.Skipped != len(trials)-1 || sum.Failed != 0 {
		t.Errorf("resume after a damaged eval.json: %+v, want the one trial redone", sum)
	}
	var ev runner.EvalFile
	readJSONFile(t, filepath.Join(out, "runs", victim, "eval.json"), &ev)
	if ev.Trial != victim {
		t.Errorf("eval.json not rewritten: %+v", ev)
	}
}
