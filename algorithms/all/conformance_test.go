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
		"ppo": {{"k3, no whitening", map[string]any{"kl": "k3", "whiten": false}, algotest.Options{}}},
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
