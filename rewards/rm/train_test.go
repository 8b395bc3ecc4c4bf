package rm

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/experiments/tasks"
)

func trainConfig(t testing.TB, steps int) Config {
	oc := optim.DefaultConfig()
	oc.LR = 3e-3
	return Config{Model: tinyConfig(t), Steps: steps, Batch: 16, Optim: oc, Seed: 1}
}

func harmless(t testing.TB, train, eval int) core.Task {
	t.Helper()
	tk, err := tasks.Get("hh-harmless", 1, tasks.WithSizes(train, eval))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestTrainLearns is the end-to-end check: a tiny model trained from
// scratch for a few dozen steps must rank held-out pairs well above
// chance, and clearly better than its random initialisation does.
func TestTrainLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model (~5 s)")
	}
	tk := harmless(t, 600, 100)
	cfg := trainConfig(t, 30)
	cfg.EvalEvery = 15
	p0, err := model.Init(cfg.Model, cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	before, err := Evaluate(context.Background(), p0, tk.Eval())
	if err != nil {
		t.Fatal(err)
	}
	var evals []Eval
	var losses []float64
	_, final, err := Train(context.Background(), cfg, tk.Train(), tk.Eval(), nil, func(p Progress) {
		losses = append(losses, p.Loss)
		if p.Eval != nil {
			evals = append(evals, *p.Eval)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("held-out accuracy %.3f before, %v during, %.3f after (margin %.2f)", before.Accuracy, evals, final.Accuracy, final.Margin)
	if len(losses) != cfg.Steps || len(evals) != 2 {
		t.Fatalf("got %d progress reports and %d evaluations, want %d and 2", len(losses), len(evals), cfg.Steps)
	}
	if final != evals[1] {
		t.Errorf("final evaluation %+v differs from the last step's %+v", final, evals[1])
	}
	if final.Pairs != 100 {
		t.Errorf("evaluated %d pairs, want 100", final.Pairs)
	}
	if final.Accuracy < 0.75 || final.Accuracy < before.Accuracy+0.2 {
		t.Errorf("held-out accuracy %.3f after training (%.3f before): did not learn", final.Accuracy, before.Accuracy)
	}
	if first, last := mean(losses[:5]), mean(losses[len(losses)-5:]); !(last < first) {
		t.Errorf("training loss did not fall: %.3f over the first steps, %.3f over the last", first, last)
	}
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// TestTrainDeterministic: same seed ⇒ bit-identical weights; another seed
// ⇒ different ones (so the comparison can fail).
func TestTrainDeterministic(t *testing.T) {
	tk := harmless(t, 64, 8)
	run := func(seed uint64, init *model.Params) *model.Params {
		cfg := trainConfig(t, 3)
		cfg.Batch = 4
		cfg.Seed = seed
		cfg.L2 = 0.01
		p, _, err := Train(context.Background(), cfg, tk.Train(), tk.Eval(), init, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, c := run(5, nil), run(5, nil), run(6, nil)
	if Fingerprint(a) != Fingerprint(b) {
		t.Errorf("same seed gave different weights: %s vs %s", Fingerprint(a), Fingerprint(b))
	}
	if Fingerprint(a) == Fingerprint(c) {
		t.Errorf("seeds 5 and 6 gave identical weights")
	}
	// From a base language model: the base is not modified, and the run is
	// reproducible too.
	lmc := tinyConfig(t)
	lmc.ValueHead = false
	base, err := model.Init(lmc, 3)
	if err != nil {
		t.Fatal(err)
	}
	before := Fingerprint(base)
	x, y := run(5, base), run(5, base)
	if Fingerprint(base) != before {
		t.Error("Train modified its init model")
	}
	if Fingerprint(x) != Fingerprint(y) {
		t.Error("same seed and init gave different weights")
	}
	if !x.Config.ValueHead {
		t.Error("model trained from a base LM has no value head")
	}
	if x.WTE.Data[0] == base.WTE.Data[0] && x.WTE.Data[1] == base.WTE.Data[1] {
		t.Error("the trunk was not trained")
	}
}

func TestTrainErrors(t *testing.T) {
	tk := harmless(t, 8, 2)
	tests := []struct {
		name  string
		edit  func(*Config)
		train []core.Example
		want  string
	}{
		{"zero steps", func(c *Config) { c.Steps = 0 }, tk.Train(), "steps"},
		{"zero batch", func(c *Config) { c.Batch = 0 }, tk.Train(), "batch"},
		{"negative l2", func(c *Config) { c.L2 = -1 }, tk.Train(), "l2"},
		{"NaN l2", func(c *Config) { c.L2 = math.NaN() }, tk.Train(), "l2"},
		{"negative eval_every", func(c *Config) { c.EvalEvery = -1 }, tk.Train(), "eval_every"},
		{"bad lr", func(c *Config) { c.Optim.LR = 0 }, tk.Train(), "lr"},
		{"bad model", func(c *Config) { c.Model.NHead = 3 }, tk.Train(), "n_head"},
		{"no data", func(c *Config) {}, nil, "no training pairs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := trainConfig(t, 1)
			tt.edit(&cfg)
			_, _, err := Train(context.Background(), cfg, tt.train, tk.Eval(), nil, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestTrainCancelled(t *testing.T) {
	tk := harmless(t, 32, 4)
	ctx, cancel := context.WithCancel(context.Background())
	cfg := trainConfig(t, 100)
	cfg.Batch = 2
	steps := 0
	_, _, err := Train(ctx, cfg, tk.Train(), tk.Eval(), nil, func(p Progress) {
		steps = p.Step
		if p.Step == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || steps != 2 {
		t.Errorf("after cancelling at step 2: err %v, %d steps run", err, steps)
	}
}
