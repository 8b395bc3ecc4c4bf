package trainer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/trainer"
)

// hasSeven is a sparse ternary reward: most groups of a few samples are
// all 0, which dynamic sampling must replace.
type hasSeven struct{}

func (hasSeven) Describe() core.RewardInfo {
	return core.RewardInfo{Name: "has-seven", Version: "1", Deterministic: true, Max: 1}
}

func (hasSeven) Score(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	out := make([]core.Score, len(items))
	for i, it := range items {
		out[i] = core.Score{Applicable: true}
		if strings.ContainsRune(it.Completion, '7') {
			out[i].Value = 1
		}
	}
	return out, ctx.Err()
}

// TestDynamicSampling: with DAPO's group filter the trainer draws extra
// rounds, counts their samples, and trains on varied groups first: the
// batch's all-equal groups are exactly the share not kept.
func TestDynamicSampling(t *testing.T) {
	if base == nil {
		t.Skip("-short: no base model")
	}
	const P, G = 4, 4
	run := func() []trainer.StepLog {
		alg, err := algorithms.New("dapo", map[string]any{"g": G, "overlong_fraction": 0, "max_rounds": 4})
		if err != nil {
			t.Fatal(err)
		}
		cfg := trainer.Config{Steps: 6, Prompts: P, Optim: optim.DefaultConfig(), Seed: 3,
			Sample: model.SampleConfig{Temperature: 1, MaxNew: 12}}
		tr, err := trainer.New(cfg, alg, task.Train(), hasSeven{}, base.Clone())
		if err != nil {
			t.Fatal(err)
		}
		var logs []trainer.StepLog
		for s := 1; s <= cfg.Steps; s++ {
			lg, err := tr.Step(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			logs = append(logs, lg)
		}
		return logs
	}
	logs := run()
	extra := 0
	for _, lg := range logs {
		if lg.Rounds < 1 || lg.Rounds > 4 || lg.Kept == nil {
			t.Fatalf("step %d: rounds %d, kept %v", lg.Step, lg.Rounds, lg.Kept)
		}
		if lg.Compute.Samples != lg.Rounds*P*G {
			t.Errorf("step %d: %d samples counted for %d rounds of %d", lg.Step, lg.Compute.Samples, lg.Rounds, P*G)
		}
		if got, want := lg.Components["zero_std_groups"], float64(P)*(1-*lg.Kept); got != want {
			t.Errorf("step %d: %v all-equal groups in the batch, want %v (kept share %v)", lg.Step, got, want, *lg.Kept)
		}
		if *lg.Kept < 1 && lg.Rounds != 4 {
			t.Errorf("step %d: kept %v after %d of 4 rounds", lg.Step, *lg.Kept, lg.Rounds)
		}
		extra += lg.Rounds - 1
	}
	if extra == 0 {
		t.Error("no step drew a second round: the test reward is not sparse enough to exercise the filter")
	}
	again := run()
	for i := range logs {
		if logs[i].Loss != again[i].Loss || logs[i].Rounds != again[i].Rounds {
			t.Fatalf("step %d not deterministic: loss %v/%v rounds %d/%d", i+1, logs[i].Loss, again[i].Loss, logs[i].Rounds, again[i].Rounds)
		}
	}
}
