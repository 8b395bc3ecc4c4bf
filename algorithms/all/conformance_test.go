package all_test

import (
	"testing"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/algorithms/algotest"
)

// TestConformance runs the conformance suite on every registered algorithm
// with its defaults, and on the variants that change which branches of a
// loss run.
func TestConformance(t *testing.T) {
	type variant struct {
		name   string
		params map[string]any
		opts   algotest.Options
	}
	variants := map[string][]variant{
		"grpo": {
			{"kl and token mean", map[string]any{"kl_beta": 0.04, "aggregation": "token_mean", "iterations": 2}, algotest.Options{}},
			{"g = 1, population std", map[string]any{"g": 1, "std": "population"}, algotest.Options{}},
			{"continuous rewards", nil, algotest.Options{Continuous: true, Seed: 7}},
		},
		"grao": {
			{"samples only", map[string]any{"group": "samples"}, algotest.Options{}},
			{"continuous rewards", nil, algotest.Options{Continuous: true, Seed: 7}},
		},
		"ppo":    {{"k3, no whitening", map[string]any{"kl": "k3", "whiten": false}, algotest.Options{}}},
		"rloo":   {{"no KL, 2 iterations", map[string]any{"kl_beta": 0, "iterations": 2}, algotest.Options{}}, {"g = 2", map[string]any{"g": 2}, algotest.Options{Continuous: true}}},
		"drgrpo": {{"k3 KL, longer L", map[string]any{"kl_beta": 0.04, "max_len": 9}, algotest.Options{}}},
		"dapo":   {{"no dynamic sampling, soft penalty over half", map[string]any{"dynamic_sampling": false, "overlong_fraction": 0.5}, algotest.Options{Continuous: true}}},
	}
	for _, name := range algorithms.Names() {
		for _, v := range append([]variant{{"defaults", nil, algotest.Options{}}}, variants[name]...) {
			t.Run(name+"/"+v.name, func(t *testing.T) {
				alg, err := algorithms.New(name, v.params)
				if err != nil {
					t.Fatal(err)
				}
				algotest.Run(t, alg, v.opts)
			})
		}
	}
}
