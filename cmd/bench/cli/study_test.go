package cli

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeNullRun writes a finished one-algorithm sweep of n seeds: results.csv
// and each trial's eval.json with per-prompt rewards.
func fakeNullRun(t *testing.T, dir string, n, prompts int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var csv strings.Builder
	csv.WriteString("trial,task,model,algorithm,seed,metric,value\n")
	for s := 1; s <= n; s++ {
		id := fmt.Sprintf("grao-s%d-0000000%d", s, s%10)
		var rewards []float64
		for range prompts {
			r := -1.0
			if rng.Float64() < 0.6 {
				r = 1
			}
			rewards = append(rewards, r)
		}
		ev, _ := json.Marshal(map[string]any{"trial": id, "rewards": rewards, "start_rewards": rewards})
		os.MkdirAll(filepath.Join(dir, "runs", id), 0o755)
		os.WriteFile(filepath.Join(dir, "runs", id, "eval.json"), ev, 0o644)
		fmt.Fprintf(&csv, "%s,skills,small,grao,%d,RAS,50\n", id, s)
	}
	os.WriteFile(filepath.Join(dir, "results.csv"), []byte(csv.String()), 0o644)
}

func TestStudyNull(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	fakeNullRun(t, a, 8, 30, 1)
	fakeNullRun(t, b, 6, 30, 1) // the same data on fewer seeds: every verdict agrees
	code, so, se := bench(t, "study", "null", a, "--per-arm", "3", "--splits", "20", "--resamples", "200", "--against", b)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, so, se)
	}
	for _, want := range []string{"### A/A: grao vs grao on skills / small", "6 seeds; 20 splits into two disjoint arms of 3 seeds",
		"| crossed test (seeds × prompts) |", "| verdict (crossed and seed tests) |", "Verdicts agree in 20 of 20 splits."} {
		if !strings.Contains(so, want) {
			t.Errorf("output lacks %q:\n%s", want, so)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"study"}, "null"},
		{[]string{"study", "null"}, "one run directory"},
		{[]string{"study", "null", a, "--metric", "nope"}, "--metric"},
		{[]string{"study", "null", a, "--label", "sft"}, `no column "sft"`},
		{[]string{"study", "null", filepath.Join(dir, "none")}, "results.csv"},
		{[]string{"study", "null", a, "--per-arm", "5"}, "two disjoint arms of 5"},
	} {
		if code, _, se := bench(t, tc.args...); code != 2 || !strings.Contains(se, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, se, tc.want)
		}
	}
}

// From the sweep file to the rates in one command; a second call resumes
// the finished run instead of training again.
func TestStudyNullRunsSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	src := strings.Replace(strings.Replace(miniSweep, "seeds = [1, 2]", "seeds = [1, 2, 3, 4]", 1),
		"[[algorithm]]\nname = \"sft\"\n", "", 1)
	path := filepath.Join(dir, "null.toml")
	os.WriteFile(path, []byte(src), 0o644)
	out := filepath.Join(dir, "out")
	for i := range 2 {
		code, so, se := bench(t, "study", "null", path, "--out", out, "--per-arm", "2", "--splits", "5", "--resamples", "100")
		if code != 0 || !strings.Contains(so, "4 seeds; 5 splits into two disjoint arms of 2 seeds") {
			t.Fatalf("call %d: exit %d\n%s\n%s", i+1, code, so, se)
		}
		if i == 1 && !strings.Contains(se, "4 skipped") {
			t.Errorf("second call did not resume: %s", se)
		}
	}
	if code, _, se := bench(t, "study", "null", out, "--out", out); code != 2 || !strings.Contains(se, "--out goes with a SWEEP.toml") {
		t.Errorf("--out with a directory: exit %d %q", code, se)
	}
}
