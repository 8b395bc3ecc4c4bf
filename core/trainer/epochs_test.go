package trainer_test

import (
	"context"
	"math"
	"testing"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/trainer"
)

// recorder wraps an algorithm and keeps the components of every Loss call.
type recorder struct {
	core.Algorithm
	calls []core.LossValue
}

func (r *recorder) Loss(b, g *core.Batch) (core.LossValue, error) {
	lv, err := r.Algorithm.Loss(b, g)
	r.calls = append(r.calls, lv)
	return lv, err
}

// A step's logged diagnostics are means over all its update epochs, not
// epoch 0's (where PPO's ratios are exactly 1 and nothing is clipped).
func TestStepLogAveragesEpochs(t *testing.T) {
	if base == nil {
		t.Skip("-short: no base model")
	}
	ppo, err := algorithms.New("ppo", map[string]any{"g": 4, "epochs": 3})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Algorithm: ppo}
	oc := optim.DefaultConfig()
	oc.LR = 3e-3 // large, so later epochs move the ratios away from 1
	cfg := trainer.Config{Steps: 1, Prompts: 4, Optim: oc, Seed: 3, Sample: model.SampleConfig{Temperature: 1, MaxNew: 16}}
	tr, err := trainer.New(cfg, rec, task.Train(), digitShare{}, base.Clone())
	if err != nil {
		t.Fatal(err)
	}
	lg, err := tr.Step(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.calls) != 3 {
		t.Fatalf("%d loss calls, want one per epoch (3)", len(rec.calls))
	}
	for _, name := range []string{"ratio_mean", "clip_fraction", "approx_kl"} {
		var mean float64
		for _, c := range rec.calls {
			mean += c.Components[name] / 3
		}
		if got := lg.Components[name]; math.Abs(got-mean) > 1e-12 {
			t.Errorf("%s logged %v, want the mean over epochs %v (epochs: %v, %v, %v)", name, got, mean,
				rec.calls[0].Components[name], rec.calls[1].Components[name], rec.calls[2].Components[name])
		}
	}
	if r0 := rec.calls[0].Components["ratio_mean"]; math.Abs(r0-1) > 1e-6 {
		t.Errorf("epoch 0 ratio mean %v, want 1 (on-policy)", r0)
	}
	if math.Abs(lg.Components["ratio_mean"]-1) < 1e-6 {
		t.Errorf("mean ratio over epochs is 1: later epochs did not move the policy, so the test cannot tell means from epoch 0")
	}
	var loss float64
	for _, c := range rec.calls {
		loss += c.Loss / 3
	}
	if math.Abs(lg.Loss-loss) > 1e-12 {
		t.Errorf("loss %v, want the mean over epochs %v", lg.Loss, loss)
	}
	if lg.ZeroVar == nil || lg.AllLose == nil || lg.AllWin == nil {
		t.Errorf("zero-variance diagnostics missing: %+v", lg)
	}
}
