package sweep

import (
	"strings"
	"testing"
)

const setBase = `name = "s"
seeds = [1]
[model]
preset = "tiny"
[task]
name = "arith"
digits = 1
train_size = 200
eval_size = 40
[train]
steps = 4
lr = 5e-4
max_new_tokens = 16
[eval]
max_new_tokens = 16
[[algorithm]]
name = "grpo"
g = 4
[[algorithm]]
name = "grao"
label = "grao-b"
beta = 0.5
`

func TestSet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sets  []string
		check func(t *testing.T, s *Sweep)
		err   string // substring of the error; "" for success
	}{
		{name: "replace a key", sets: []string{"train.lr=3e-4"}, check: func(t *testing.T, s *Sweep) {
			if s.Train.LR != 3e-4 {
				t.Errorf("train.lr = %g, want 3e-4", s.Train.LR)
			}
		}},
		{name: "add a key the file lacks", sets: []string{"train.warmup=2", "seeds=[1, 2, 3]"}, check: func(t *testing.T, s *Sweep) {
			if s.Train.Warmup != 2 || len(s.Seeds) != 3 {
				t.Errorf("warmup %d, seeds %v", s.Train.Warmup, s.Seeds)
			}
		}},
		{name: "a bare string", sets: []string{"train.schedule=cosine"}, check: func(t *testing.T, s *Sweep) {
			if s.Train.Schedule != "cosine" {
				t.Errorf("schedule %q", s.Train.Schedule)
			}
		}},
		{name: "explicit zero stays zero", sets: []string{"train.checkpoint_every=0"}, check: func(t *testing.T, s *Sweep) {
			s.Resolve()
			if s.Train.CheckpointEvery != 0 {
				t.Errorf("checkpoint_every %d after Resolve, want the explicit 0", s.Train.CheckpointEvery)
			}
		}},
		{name: "an algorithm by label and by name", sets: []string{"algorithm.grao-b.beta=0.25", "algorithm.grpo.g=8"}, check: func(t *testing.T, s *Sweep) {
			if s.Algorithms[0].Params["g"] != int64(8) || s.Algorithms[1].Params["beta"] != 0.25 {
				t.Errorf("params %v, %v", s.Algorithms[0].Params, s.Algorithms[1].Params)
			}
		}},
		{name: "a grid key", sets: []string{`sweep."train.lr"=[1e-4, 3e-4]`}, check: func(t *testing.T, s *Sweep) {
			trials, err := s.Expand()
			if err != nil {
				t.Fatal(err)
			}
			if len(trials) != 4 {
				t.Errorf("%d trials, want 2 algorithms × 2 learning rates", len(trials))
			}
		}},
		{name: "a bad value names the override", sets: []string{"train.lr=-1"}, err: "--set train.lr=-1: train.lr: "},
		{name: "a wrong type names the override", sets: []string{"train.steps=many"}, err: "--set train.steps=many: train.steps: "},
		{name: "a misspelt key", sets: []string{"train.lrr=1e-4"}, err: `did you mean "lr"?`},
		{name: "an unknown algorithm label", sets: []string{"algorithm.grpox.beta=1"}, err: `no [[algorithm]] table is labelled "grpox" (did you mean "grpo"?) (the sweep has grpo, grao-b)`},
		{name: "no equals sign", sets: []string{"train.lr"}, err: "--set train.lr: want KEY=VALUE"},
		{name: "file errors keep their lines", sets: []string{"train.lr=1e-4"}, err: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseWith([]byte(setBase), "s.toml", tc.sets)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want it to contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Sets(); strings.Join(got, " ") != strings.Join(tc.sets, " ") {
				t.Errorf("Sets() = %v", got)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
	// A bad key in the file is still reported at its line when an
	// override is present.
	_, err := ParseWith([]byte(strings.Replace(setBase, "steps = 4", "steps = -4", 1)), "s.toml", []string{"train.lr=1e-4"})
	if err == nil || !strings.Contains(err.Error(), "s.toml:11: train.steps") {
		t.Errorf("err %v, want the file's line for train.steps", err)
	}
}
