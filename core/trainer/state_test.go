package trainer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/trainer"
	"github.com/grao-lab/grao/rewards"
)

// A trainer restored from the state saved after step k runs steps k+1…n
// exactly as the uninterrupted trainer did: same logs (timing aside) and
// bit-identical weights. PPO covers the value head and several epochs; the
// random reward covers a reward with state of its own.
func TestStateResumesBitIdentically(t *testing.T) {
	if base == nil {
		t.Skip("-short: no base model")
	}
	const steps, at = 6, 3
	for _, tc := range []struct {
		name   string
		params map[string]any
		reward func() core.Reward
	}{
		{"grao", map[string]any{"g": 4}, func() core.Reward { return digitShare{} }},
		{"ppo", map[string]any{"g": 2, "epochs": 2}, func() core.Reward { return digitShare{} }},
		{"grpo", map[string]any{"g": 4}, func() core.Reward { return rewards.NewRandom(5) }},
		{"sft", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			build := func() *trainer.Trainer {
				alg, err := algorithms.New(tc.name, tc.params)
				if err != nil {
					t.Fatal(err)
				}
				oc := optim.DefaultConfig()
				oc.LR = 1e-3
				oc.Schedule = optim.Schedule{Kind: "cosine", Warmup: 2, Total: steps}
				var r core.Reward
				if tc.reward != nil {
					r = tc.reward()
				}
				cfg := trainer.Config{Steps: steps, Prompts: 2, Optim: oc, Seed: 11,
					Sample: model.SampleConfig{Temperature: 1, MaxNew: 12}}
				tr, err := trainer.New(cfg, alg, task.Train(), r, base.Clone())
				if err != nil {
					t.Fatal(err)
				}
				return tr
			}
			run := func(tr *trainer.Trainer, from, to int) []string {
				var logs []string
				for s := from; s <= to; s++ {
					lg, err := tr.Step(context.Background(), s)
					if err != nil {
						t.Fatal(err)
					}
					lg.Timing = trainer.Timing{}
					b, _ := json.Marshal(lg)
					logs = append(logs, string(b))
				}
				return logs
			}
			whole := build()
			want := run(whole, 1, steps)

			first := build()
			run(first, 1, at)
			var buf bytes.Buffer
			if err := first.SaveState(&buf, map[string]string{"step": "3"}); err != nil {
				t.Fatal(err)
			}
			second := build()
			meta, err := second.LoadState(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			if meta["step"] != "3" || len(meta) != 1 {
				t.Errorf("caller metadata %v, want only step = 3", meta)
			}
			if got := run(second, at+1, steps); !slices.Equal(got, want[at:]) {
				t.Errorf("resumed logs differ:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want[at:], "\n     "))
			}
			a, b := policyParams(t, whole.Policy).All(), policyParams(t, second.Policy).All()
			for i := range a {
				if !slices.Equal(a[i].Data, b[i].Data) {
					t.Fatalf("tensor %s differs after resuming", a[i].Name)
				}
			}
		})
	}
}

// A state from another model, or a damaged one, is refused before
// anything is overwritten.
func TestLoadStateRefusesMismatch(t *testing.T) {
	if base == nil {
		t.Skip("-short: no base model")
	}
	newT := func(p *model.Params) *trainer.Trainer {
		alg, _ := algorithms.New("sft", nil)
		cfg := trainer.Config{Steps: 1, Prompts: 1, Optim: optim.DefaultConfig(), Seed: 1, Sample: model.SampleConfig{MaxNew: 8}}
		tr, err := trainer.New(cfg, alg, task.Train(), nil, p)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	var buf bytes.Buffer
	if err := newT(base.Clone()).SaveState(&buf, nil); err != nil {
		t.Fatal(err)
	}
	oc := base.Config
	oc.DModel, oc.NLayer, oc.NHead = 8, 1, 2
	other, err := model.Init(oc, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr := newT(other)
	before := slices.Clone(policyParams(t, tr.Policy).WTE.Data)
	if _, err := tr.LoadState(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err == nil || !strings.Contains(err.Error(), "model") {
		t.Errorf("loading another model's state: err %v, want a model mismatch", err)
	}
	if !slices.Equal(before, policyParams(t, tr.Policy).WTE.Data) {
		t.Error("a refused state changed the weights")
	}
	cut := buf.Bytes()[:buf.Len()/2]
	if _, err := newT(base.Clone()).LoadState(bytes.NewReader(cut), int64(len(cut))); err == nil {
		t.Error("a truncated state loaded")
	}
	if err := newT(base.Clone()).SaveState(&bytes.Buffer{}, map[string]string{"trainer.x": "1"}); err == nil {
		t.Error("a reserved metadata key was accepted")
	}
}
