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
		prompts[i] = tokenizer.PromptIDs(ex.Prompt)
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
		pr := tokenizer.PromptIDs(prompt)
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
	return policyParams(t, tr.Policy)
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
		{"rloo", map[string]any{"g": 4}},
		{"drgrpo", map[string]any{"g": 4}},
		{"dapo", map[string]any{"g": 4}},
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

// A step on the shortest bucket graph gives the loss and update of the
// full-context graph: positions past a sequence's end are masked, and
// attention is causal, so only rounding (different GEMM shapes) differs.
func TestBucketsMatchFullContext(t *testing.T) {
	if base == nil {
		t.Skip("-short: no base model")
	}
	for _, tc := range []struct {
		name   string
		params map[string]any
	}{
		{"grao", map[string]any{"g": 2}},
		{"ppo", map[string]any{"g": 2, "epochs": 2}},
		{"dpo", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step := func(full bool, seed uint64) (*trainer.Trainer, trainer.StepLog, int) {
				alg, err := algorithms.New(tc.name, tc.params)
				if err != nil {
					t.Fatal(err)
				}
				cfg := trainer.Config{Steps: 1, Prompts: 2, Optim: optim.DefaultConfig(), Seed: seed,
					Sample: model.SampleConfig{Temperature: 1, MaxNew: 8}}
				tr, err := trainer.NewForTest(cfg, alg, task.Train(), digitShare{}, base.Clone(), full)
				if err != nil {
					t.Fatal(err)
				}
				lg, err := tr.Step(context.Background(), 1)
				if err != nil {
					t.Fatal(err)
				}
				return tr, lg, trainer.GraphSeq(tr)
			}
			// The first seed whose batch fits a shorter graph (some arith
			// references fill most of tiny's 64 positions).
			var seed uint64
			tr, lg, seq := step(false, seed)
			for seq == base.Config.Context && seed < 20 {
				seed++
				tr, lg, seq = step(false, seed)
			}
			fullTr, fullLog, fullSeq := step(true, seed)
			if seq >= fullSeq {
				t.Fatalf("no seed gave a batch shorter than the context (%d)", fullSeq)
			}
			if d := math.Abs(lg.Loss - fullLog.Loss); d > 1e-5*(1+math.Abs(fullLog.Loss)) {
				t.Errorf("loss %v on %d positions, %v on %d", lg.Loss, seq, fullLog.Loss, fullSeq)
			}
			var worst float64
			for i, w := range policyParams(t, tr.Policy).All() {
				fw := policyParams(t, fullTr.Policy).All()[i]
				for j := range w.Data {
					worst = max(worst, math.Abs(float64(w.Data[j]-fw.Data[j])))
				}
			}
			// AdamW's first steps move every weight by about lr = 1e-3 (sign of the
			// gradient), so a sign flip from rounding would show as ~2e-3.
			if worst > 1e-4 {
				t.Errorf("weights after one step differ by up to %g", worst)
			}
			t.Logf("%d vs %d positions: loss %v vs %v, max weight difference %g", seq, fullSeq, lg.Loss, fullLog.Loss, worst)
		})
	}
}

// params are an engine's weights.
func policyParams(t testing.TB, e core.Engine) *model.Params {
	t.Helper()
	p, err := model.ParamsOf(e)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
