package trainer

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/grao-lab/grao/algorithms"
	_ "github.com/grao-lab/grao/algorithms/all"
	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/tokenizer"
)

// lengthReward gives every sample a distinct reward, so no group has zero
// variance and every loss term is exercised.
type lengthReward struct{}

func (lengthReward) Describe() core.RewardInfo {
	return core.RewardInfo{Name: "length", Version: "1", Deterministic: true}
}

func (lengthReward) Score(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	out := make([]core.Score, len(items))
	for i, it := range items {
		out[i] = core.Score{Applicable: true, Value: float64(len(it.Completion)%7) / 7}
	}
	return out, nil
}

// Every algorithm's loss, fed through the float64 training graph exactly as
// the trainer feeds it (spans, reference and old log-probs, values), has the
// gradient that central finite differences of the same loss give.
func TestAlgorithmGradientsThroughGraph(t *testing.T) {
	c := model.Config{VocabSize: tokenizer.VocabSize, DModel: 8, NLayer: 1, NHead: 2, Context: 32, LNEps: 1e-5}
	train := []core.Example{
		{Prompt: "Human: 1+1=?\nAssistant:", Chosen: " 2", Rejected: " 3"},
		{Prompt: "Human: hi\nAssistant:", Chosen: " hello", Rejected: " no"},
	}
	for _, tc := range []struct {
		name   string
		params map[string]any
		temp   float64 // rollout temperature; ≠ 1 with tempered log-probs
	}{
		{"sft", nil, 1},
		{"dpo", nil, 1},
		{"dpo", map[string]any{"loss_type": "ipo"}, 1},
		{"grpo", map[string]any{"g": 3, "kl_beta": 0.1}, 1},
		{"grpo", map[string]any{"g": 3, "kl_beta": 0.1}, 0.7},
		{"grao", map[string]any{"g": 3}, 1},
		{"grao", map[string]any{"g": 3}, 0.7},
		{"grao", map[string]any{"g": 3, "group": "samples"}, 1},
		{"ppo", map[string]any{"g": 2, "epochs": 1}, 1},
		{"ppo", map[string]any{"g": 2, "epochs": 1}, 0.7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := model.Init(c, 3)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, 6))
			for _, ts := range p.All() {
				for i := range ts.Data {
					ts.Data[i] += float32(rng.NormFloat64() * 0.05)
				}
			}
			alg, err := algorithms.New(tc.name, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{Steps: 1, Prompts: 2, Optim: optim.DefaultConfig(), Seed: 1,
				Sample: model.SampleConfig{Temperature: tc.temp, MaxNew: 6}, Tempered: true}
			tr, err := newOn("", model.CPUOptions{Float64: true}, cfg, alg, train, lengthReward{}, p)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]float64{true: tc.temp, false: 1}[alg.Needs().Samples > 0]; tr.Temperature() != want {
				t.Fatalf("loss temperature %v, want %v", tr.Temperature(), want)
			}
			if _, err := tr.prepare(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			if err := tr.run(1); err != nil {
				t.Fatal(err)
			}
			weights, grads, err := tr.Policy.(*model.CPU).Float64Weights()
			if err != nil {
				t.Fatal(err)
			}
			analytic := make([][]float64, len(grads))
			for i, g := range grads {
				analytic[i] = append([]float64(nil), g...)
			}
			loss := func() float64 {
				if err := tr.run(1); err != nil {
					t.Fatal(err)
				}
				return tr.lastLoss.Loss
			}
			const h = 1e-6
			checked := 0
			for i, w := range weights {
				for _, j := range []int{0, len(w) / 3, len(w) - 1, rng.IntN(len(w))} {
					orig := w[j]
					w[j] = orig + h
					up := loss()
					w[j] = orig - h
					down := loss()
					w[j] = orig
					num := (up - down) / (2 * h)
					if math.Abs(num-analytic[i][j]) > 1e-6+1e-4*math.Abs(num) {
						t.Errorf("weight %d[%d]: graph %.9g, finite differences %.9g", i, j, analytic[i][j], num)
					}
					if analytic[i][j] != 0 {
						checked++
					}
				}
			}
			if checked < len(weights) {
				t.Errorf("only %d non-zero gradients probed: the check is too weak", checked)
			}
		})
	}
}
