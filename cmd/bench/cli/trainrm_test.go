package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/rewards/rm"
)

// Tests of `bench train-rm` through Run(): exit code 2 with a clear
// message on bad input, and a tiny real run that writes a loadable,
// reproducible reward model.
func TestTrainRMBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"prompt":"Human: a\n\nAssistant:","chosen":" x","rejected":" y"}`+"\n{\"prompt\": 3}\n"), 0o644)
	lm := filepath.Join(dir, "nolm")
	out := filepath.Join(dir, "out")
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no out", []string{"--task", "arith"}, "--out is required"},
		{"no data", []string{"--out", out}, "exactly one of --task"},
		{"both", []string{"--task", "arith", "--data", bad, "--out", out}, "exactly one of --task"},
		{"unknown task", []string{"--task", "nope", "--out", out}, `unknown task "nope"`},
		{"bad line", []string{"--data", bad, "--out", out}, "bad.jsonl:2:"},
		{"missing file", []string{"--data", filepath.Join(dir, "none.jsonl"), "--out", out}, "none.jsonl"},
		{"fraction with task", []string{"--task", "arith", "--eval-fraction", "0.2", "--out", out}, "--eval-fraction applies to --data"},
		{"bad preset", []string{"--task", "arith", "--model", "huge", "--out", out}, `unknown model preset "huge"`},
		{"missing init", []string{"--task", "arith", "--init", lm, "--out", out}, "--init"},
		{"steps", []string{"--task", "arith", "--steps", "0", "--out", out}, "steps must be positive"},
		{"l2", []string{"--task", "arith", "--l2", "-1", "--out", out}, "l2 must be"},
		{"log every", []string{"--task", "arith", "--log-every", "0", "--out", out}, "--log-every"},
		{"bad flag", []string{"--task", "arith", "--nope", "--out", out}, "nope"},
		{"extra arg", []string{"--task", "arith", "--out", out, "extra"}, `unexpected argument "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var so, se bytes.Buffer
			code := Run(append([]string{"train-rm"}, tc.args...), &so, &se)
			if code != 2 || !strings.Contains(se.String(), tc.stderr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, se.String(), tc.stderr)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed run wrote its output directory")
	}
}

func TestTrainRMRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a tiny model")
	}
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"train-rm", "--task", "hh-harmless", "--model", "tiny", "--steps", "3", "--batch", "2",
			"--eval-every", "2", "--log-every", "1", "--out", out}
	}
	var files [2][]byte
	for i, name := range []string{"a", "b"} {
		out := filepath.Join(dir, name)
		var so, se bytes.Buffer
		if code := Run(args(out), &so, &se); code != 0 {
			t.Fatalf("exit %d: %s", code, se.String())
		}
		for _, want := range []string{"step     3/3", "eval      2     held-out accuracy", "held-out accuracy", "(200 pairs)", "reward version rm:"} {
			if !strings.Contains(so.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, so.String())
			}
		}
		r, err := rm.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(so.String(), r.Describe().Version) {
			t.Errorf("printed version differs from the saved model's %s", r.Describe().Version)
		}
		md, err := checkpoint.Metadata(out)
		if err != nil || md["kind"] != "reward-model" || md["task"] != "hh-harmless" || md["eval_pairs"] != "200" {
			t.Errorf("metadata %v, %v", md, err)
		}
		if files[i], err = os.ReadFile(filepath.Join(out, checkpoint.WeightsFile)); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("the same command wrote different checkpoints")
	}
}
