package trainer_test

import (
	"context"
	"flag"
	"math"
	"os"
	"testing"

	"github.com/grao-lab/grao/algorithms"
	_ "github.com/grao-lab/grao/algorithms/all"
	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/pretrain"
	"github.com/grao-lab/grao/core/tokenizer"
	"github.com/grao-lab/grao/core/trainer"
	"github.com/grao-lab/grao/experiments/tasks"
)

// The integration tests share one tiny base model pre-trained on the
// 1-digit arith task's mixed-quality corpus: it knows the format, answers
// often wrongly, and so leaves every method room to improve.
var (
	task core.Task
	base *model.Params
)

func TestMain(m *testing.M) {
	flag.Parse()
	var err error
	if task, err = tasks.Get("arith", 1, tasks.WithDigits(1), tasks.WithSizes(200, 60)); err != nil {
		panic(err)
	}
	if !testing.Short() {
		mc, _ := model.Preset("tiny")
		oc := optim.DefaultConfig()
		oc.LR = 3e-3
		oc.Schedule = optim.Schedule{Kind: "cosine", Warmup: 10, Total: 150, MinFactor: 0.1}
		cfg := pretrain.Config{Model: mc, Steps: 150, Batch: 16, Seq: mc.Context, Optim: oc, Seed: 1}
		if base, err = pretrain.Run(context.Background(), cfg, pretrain.Docs(task.Corpus()), nil, nil); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

func evalExamples() []core.Example { return task.Eval()[:48] }

// digitShare is a dense test reward: the share of a completion's bytes
// that are digits. The base model answers in words ("That is 1."), so the
// reward has room to grow, and every sample gets a distinct signal.
type digitShare struct{}

func (digitShare) Describe() core.RewardInfo {
	return core.RewardInfo{Name: "digit-share", Version: "1", Deterministic: true, Max: 1}
}

func (digitShare) Score(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	out := make([]core.Score, len(items))
	for i, it := range items {
		n := 0
		for _, c := range []byte(it.Completion) {
			if c >= '0' && c <= '9' {
				n++
			}
		}
		out[i] = core.Score{Applicable: true, Value: float64(n) / float64(max(len(it.Completion), 1))}
	}
	return out, ctx.Err()
}

// meanReward is the mean digitShare of greedy answers to the eval prompts.
func meanReward(t *testing.T, p *model.Params) float64 {
	t.Helper()
	exs := evalExamples()
	s := model.NewSampler(p, len(exs))
	prompts := make([][]int, len(exs))
	for i, ex := range exs {
		prompts[i] = tokenizer.PromptIDs(ex.Prompt, p.Config.Context)
	}
	outs, err := s.Generate(prompts, model.SampleConfig{MaxNew: 16})
	if err != nil {
		t.Fatal(err)
	}
	items := make([]core.RewardItem, len(outs))
	for i, o := range outs {
		items[i].Completion = tokenizer.Byte{}.Decode(o.Tokens)
	}
	sc, _ := digitShare{}.Score(context.Background(), items)
	var m float64
	for _, v := range sc {
		m += v.Value
	}
	return m / float64(len(sc))
}

// margin is the mean over eval examples of the per-token log-likelihood
// of the chosen answer minus that of the rejected one.
func margin(t *testing.T, p *model.Params) (chosen, diff float64) {
	t.Helper()
	sc := model.NewScorer(p)
	mean := func(prompt, ans string) float64 {
		pr := tokenizer.PromptIDs(prompt, p.Config.Context)
		toks := append(append(append([]int(nil), pr...), tokenizer.Byte{}.Encode(ans)...), tokenizer.EOS)
		lp, err := sc.LogProbs(model.Sequence{Tokens: toks, Start: len(pr)})
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for _, v := range lp {
			s += v
		}
		return s / float64(len(lp))
	}
	exs := evalExamples()
	for _, ex := range exs {
		c := mean(ex.Prompt, ex.Chosen)
		chosen += c
		diff += c - mean(ex.Prompt, ex.Rejected)
	}
	return chosen / float64(len(exs)), diff / float64(len(exs))
}

func train(t *testing.T, name string, params map[string]any, steps, prompts int, lr float64) *model.Params {
	t.Helper()
	alg, err := algorithms.New(name, params)
	if err != nil {
		t.Fatal(err)
	}
	oc := optim.DefaultConfig()
	oc.LR = lr
	// Adam's first, bias-corrected steps are full-size: warm up.
	oc.Schedule = optim.Schedule{Kind: "constant", Warmup: 5}
	cfg := trainer.Config{Steps: steps, Prompts: prompts, Optim: oc, Seed: 7,
		Sample: model.SampleConfig{Temperature: 1, MaxNew: 16}}
	tr, err := trainer.New(cfg, alg, task.Train(), digitShare{}, base.Clone())
	if err != nil {
		t.Fatal(err)
	}
	for s := 1; s <= steps; s++ {
		lg, err := tr.Step(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if math.IsNaN(lg.Loss) || math.IsInf(lg.Loss, 0) {
			t.Fatalf("step %d: loss %v", s, lg.Loss)
		}
	}
	return tr.Policy
}

// Each RL method raises the held-out mean reward within a few dozen
// deterministic steps.
func TestRLImprovesReward(t *testing.T) {
	if base == nil {
		t.Skip("-short: no base model")
	}
	before := meanReward(t, base)
	for _, tc := range []struct {
		name   string
		params map[string]any
	}{
		{"grao", map[string]any{"g": 4}},
		{"grpo", map[string]any{"g": 4, "kl_beta": 0.0}},
		{"ppo", map[string]any{"g": 4, "epochs": 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			after := meanReward(t, train(t, tc.name, tc.params, 30, 4, 1e-3))
			t.Logf("%s: eval reward %.3f -> %.3f", tc.name, before, after)
			if !(after > before) {
				t.Errorf("%s: eval reward %.3f -> %.3f, want an increase", tc.name, before, after)
			}
		})
	}
}

// SFT raises the reference's likelihood; DPO raises the chosen-over-rejected
// margin.
func TestOfflineImprovesTarget(t *testing.T) {
	if base == nil {
		t.Skip("-short: no base model")
	}
	c0, d0 := margin(t, base)
	c1, _ := margin(t, train(t, "sft", nil, 20, 16, 5e-4))
	_, d2 := margin(t, train(t, "dpo", nil, 20, 16, 5e-4))
	t.Logf("sft: chosen log-lik/token %.3f -> %.3f; dpo: margin %.3f -> %.3f", c0, c1, d0, d2)
	if !(c1 > c0) {
		t.Errorf("sft: chosen likelihood %.3f -> %.3f, want an increase", c0, c1)
	}
	if !(d2 > d0) {
		t.Errorf("dpo: margin %.3f -> %.3f, want an increase", d0, d2)
	}
}

// Same config and seed ⇒ bit-identical weights.
func TestDeterministic(t *testing.T) {
	if base == nil {
		t.Skip("-short: no base model")
	}
	a := train(t, "grao", map[string]any{"g": 2}, 3, 2, 1e-3)
	b := train(t, "grao", map[string]any{"g": 2}, 3, 2, 1e-3)
	for i, ta := range a.All() {
		tb := b.All()[i]
		for j := range ta.Data {
			if math.Float32bits(ta.Data[j]) != math.Float32bits(tb.Data[j]) {
				t.Fatalf("%s[%d] differs: %v vs %v", ta.Name, j, ta.Data[j], tb.Data[j])
			}
		}
	}
}
