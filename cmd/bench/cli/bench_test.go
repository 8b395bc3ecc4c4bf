package cli

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/experiments/runner"
)

func bench(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Run(args, &o, &e)
	return code, o.String(), e.String()
}

// pretrain lowers the loss, the same seed twice gives byte-identical
// checkpoints, and sample/score read them.
func TestPretrainSampleScore(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	text := filepath.Join(dir, "t.txt")
	os.WriteFile(text, bytes.Repeat([]byte("Human: 2+2=?\nAssistant: 4\n"), 40), 0o644)
	var losses [2]string
	for i, out := range []string{"a", "b"} {
		code, so, se := bench(t, "pretrain", "--data", text, "--model", "tiny", "--steps", "30", "--batch", "4",
			"--log-every", "29", "--out", filepath.Join(dir, out))
		if code != 0 {
			t.Fatalf("pretrain exit %d: %s", code, se)
		}
		losses[i] = so
	}
	first, last := lossAt(t, losses[0], "step     1/"), lossAt(t, losses[0], "step    30/")
	if again := lossAt(t, losses[1], "step    30/"); again != last {
		t.Errorf("same seed, final loss %v then %v", last, again)
	}
	if !(last < first-1) {
		t.Errorf("loss %v -> %v: want a clear decrease", first, last)
	}
	for _, f := range []string{"model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json"} {
		a, _ := os.ReadFile(filepath.Join(dir, "a", f))
		b, _ := os.ReadFile(filepath.Join(dir, "b", f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed", f)
		}
	}
	code, so, se := bench(t, "sample", "--checkpoint", filepath.Join(dir, "a"), "--prompt", "Human: 2+2=?\nAssistant:", "--n", "2", "--max-new", "8")
	if code != 0 || strings.Count(so, "\n") != 2 {
		t.Fatalf("sample exit %d, %q %s", code, so, se)
	}
	code, so, se = bench(t, "score", "--checkpoint", filepath.Join(dir, "a"), "--text", "Human: 2")
	var sc struct {
		Tokens   []int
		LogProbs []float64
	}
	if code != 0 || json.Unmarshal([]byte(so), &sc) != nil || len(sc.LogProbs) != len("Human: 2") {
		t.Fatalf("score exit %d, %q %s", code, so, se)
	}
	// A diverged run's NaN weight is refused at load, naming the tensor,
	// rather than failing later in the JSON output.
	p, err := checkpoint.Load(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	p.Blocks[0].FCW.Data[5] = float32(math.NaN())
	if err := checkpoint.Save(filepath.Join(dir, "nan"), p, nil); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"sample", "--prompt", "x"}, {"score", "--text", "x"}} {
		code, _, se := bench(t, append(cmd, "--checkpoint", filepath.Join(dir, "nan"))...)
		if code != 2 || !strings.Contains(se, `tensor "transformer.h.0.mlp.c_fc.weight": element 5 is NaN`) {
			t.Errorf("%s with a NaN weight: exit %d, %q; want 2 naming the tensor", cmd[0], code, se)
		}
	}
	if code, _, se := bench(t, "sample", "--checkpoint", filepath.Join(dir, "nope"), "--prompt", "x"); code != 2 {
		t.Errorf("missing checkpoint: exit %d (%s), want 2", code, se)
	}
}

func lossAt(t *testing.T, log, prefix string) float64 {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		if strings.HasPrefix(line, prefix) {
			var v float64
			f := strings.Fields(line)
			for i, w := range f {
				if w == "loss" {
					json.Unmarshal([]byte(f[i+1]), &v)
					return v
				}
			}
		}
	}
	t.Fatalf("no line %q in\n%s", prefix, log)
	return 0
}

const miniSweep = `name = "mini"
seeds = [1, 2]
[model]
preset = "tiny"
[task]
name = "arith"
digits = 1
train_size = 200
eval_size = 40
[pretrain]
steps = 30
[train]
steps = 3
prompts = 2
max_new_tokens = 16
[eval]
prompts = 8
max_new_tokens = 16
[[algorithm]]
name = "sft"
[[algorithm]]
name = "grao"
g = 2
`

// A sweep runs end to end; malformed sweeps exit 2 and write nothing; a
// second run needs --resume, which keeps finished trials.
func TestRunCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "mini.toml")
	os.WriteFile(good, []byte(miniSweep), 0o644)
	for name, tc := range map[string]struct{ src, want string }{
		"syntax":      {"name = \n", "bad.toml:1"},
		"unknown key": {miniSweep + "colour = 1\n", "colour"},
		"wrong type":  {strings.Replace(miniSweep, "prompts = 2", `prompts = "2"`, 1), "train.prompts"},
		"negative":    {strings.Replace(miniSweep, "prompts = 2", "prompts = -2", 1), "train.prompts"},
		"no dataset":  {strings.Replace(miniSweep, `name = "arith"`, `name = "missing.jsonl"`, 1), "task.name"},
	} {
		bad := filepath.Join(dir, "bad.toml")
		os.WriteFile(bad, []byte(tc.src), 0o644)
		out := filepath.Join(dir, "out-"+strings.ReplaceAll(name, " ", "-"))
		code, _, se := bench(t, "run", bad, "--out", out)
		if code != 2 || !strings.Contains(se, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", name, code, se, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: output directory was created", name)
		}
	}
	// A bad --set is bad input, reported against the override.
	for _, set := range []string{"train.prompts=-1", "train.promts=2", "algorithm.nope.g=2"} {
		out := filepath.Join(dir, "out-set")
		if code, _, se := bench(t, "run", good, "--set", set, "--out", out); code != 2 || !strings.Contains(se, "--set "+set) {
			t.Errorf("--set %s: exit %d, stderr %q; want 2 naming the override", set, code, se)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("--set %s: output directory was created", set)
		}
	}
	if code, _, se := bench(t, "run", good, "--out", "/proc/grao-cannot-write/out"); code != 2 || !strings.Contains(se, "--out /proc/grao-cannot-write/out") {
		t.Errorf("unwritable --out: exit %d, %q; want 2", code, se)
	}
	out := filepath.Join(dir, "out")
	code, so, se := bench(t, "run", good, "--out", out)
	if code != 0 || !strings.Contains(so, "## Task arith") {
		t.Fatalf("run exit %d\nstdout %s\nstderr %s", code, so, se)
	}
	results, _ := os.ReadFile(filepath.Join(out, "results.csv"))
	if n := strings.Count(string(results), ",RAS,"); n != 4 {
		t.Errorf("results.csv has %d RAS rows, want 4:\n%s", n, results)
	}
	// status: every trial done (exit 0); collect rewrites the same table.
	if code, so, se := bench(t, "status", out); code != 0 || !strings.Contains(so, "4 trials: 4 done") {
		t.Errorf("status: exit %d\n%s%s", code, so, se)
	}
	if code, _, se := bench(t, "collect", out); code != 0 || !strings.Contains(se, "4 of 4 trials finished") {
		t.Errorf("collect: exit %d %q", code, se)
	}
	if again, _ := os.ReadFile(filepath.Join(out, "results.csv")); string(again) != string(results) {
		t.Errorf("collect changed results.csv:\n%s\nwas\n%s", again, results)
	}
	if code, _, se := bench(t, "status", dir); code != 2 || !strings.Contains(se, "plan.json") {
		t.Errorf("status of a directory without a run: exit %d %q", code, se)
	}
	// The figures and the report read what the runner wrote.
	if code, so, se := bench(t, "plot", out); code != 0 || !strings.Contains(so, "dynamics_reward_arith_tiny") {
		t.Errorf("plot: exit %d\nstdout %s\nstderr %s", code, so, se)
	}
	if code, so, se := bench(t, "report", out, "--format", "csv"); code != 0 || !strings.Contains(so, "RAS") {
		t.Errorf("report: exit %d\nstdout %s\nstderr %s", code, so, se)
	}
	// bench eval on the base model reproduces the calibration table the
	// runner recorded for it (same prompts, sampler and seed).
	bases, _ := filepath.Glob(filepath.Join(out, "base", "*", "model.safetensors"))
	if len(bases) != 1 {
		t.Fatalf("base models %v", bases)
	}
	code, so, se = bench(t, "eval", filepath.Dir(bases[0]), "--like", out, "--split", "train", "--k", "4")
	if code != 0 || !strings.Contains(so, "## Greedy answers") || !strings.Contains(so, "## pass@k") {
		t.Fatalf("eval: exit %d\nstdout %s\nstderr %s", code, so, se)
	}
	var man runner.Manifest
	raw, _ := os.ReadFile(filepath.Join(out, "runs", strings.Split(strings.Split(string(results), "\n")[1], ",")[0], "manifest.json"))
	if err := json.Unmarshal(raw, &man); err != nil || man.Calibration == nil {
		t.Fatalf("manifest: %v", err)
	}
	var want strings.Builder
	man.Calibration.Table.Render(&want, kindSetting)
	if !strings.Contains(so, want.String()) {
		t.Errorf("bench eval --split train differs from the recorded calibration:\n%s\nwant the table\n%s", so, want.String())
	}
	if code, _, se := bench(t, "eval", filepath.Dir(bases[0])); code != 2 || !strings.Contains(se, "--like") {
		t.Errorf("eval without --like: exit %d %q", code, se)
	}
	if code, so, se := bench(t, "eval", filepath.Dir(bases[0]), "--task", "arith", "--max-new", "16"); code != 0 || !strings.Contains(so, "task arith (default settings)") {
		t.Errorf("eval --task: exit %d\n%s\n%s", code, so, se)
	}
	if code, _, se := bench(t, "eval", filepath.Dir(bases[0]), "--task", "arith", "--like", out); code != 2 || !strings.Contains(se, "not both") {
		t.Errorf("eval --task and --like: exit %d %q", code, se)
	}
	if code, _, se := bench(t, "study", "null", out, "--label", "grao"); code != 2 || !strings.Contains(se, "2 seeds") {
		t.Errorf("study null with 2 seeds: exit %d %q", code, se)
	}
	if code, _, se := bench(t, "run", good, "--out", out); code != 2 || !strings.Contains(se, "--resume") {
		t.Errorf("rerun without --resume: exit %d %q", code, se)
	}
	if code, _, se := bench(t, "run", good, "--out", out, "--resume", "--set", "train.lr=1e-4"); code != 2 || !strings.Contains(se, "+ --set train.lr=1e-4") {
		t.Errorf("resume with a new --set: exit %d %q; want 2 and the override in the diff", code, se)
	}
	code, _, se = bench(t, "run", good, "--out", out, "--resume")
	if code != 0 || !strings.Contains(se, "4 skipped") {
		t.Errorf("resume: exit %d %q", code, se)
	}
}
