package rloo_test

import (
	"fmt"
	"testing"

	"github.com/grao-lab/grao/algorithms/algotest"
	"github.com/grao-lab/grao/algorithms/kit"
	"github.com/grao-lab/grao/algorithms/rloo"
)

// The contract every algorithm meets; the loss values are checked by the
// shared vectors (algorithms/testdata/vectors/rloo_*.json).
func TestConformance(t *testing.T) {
	for _, p := range []rloo.Params{rloo.DefaultParams(), {G: 2, ClipEps: 0.1, Iterations: 2}} {
		algotest.Run(t, &rloo.Algorithm{P: p}, algotest.Options{})
	}
}

// One group of four with rewards 1, 0, 0, 1: each sample's baseline is the
// mean of the other three, so Â = ±2/3.
func ExampleLoss() {
	in := kit.Input{LogP: [][]float64{{-1}, {-1}, {-1}, {-1}}, Rewards: []float64{1, 0, 0, 1}}
	p := rloo.DefaultParams()
	p.G, p.KLBeta = 4, 0
	r, err := rloo.Loss(in, p)
	if err != nil {
		panic(err)
	}
	fmt.Printf("advantages %.4f\nd loss/d ℓ %.4f\n", r.Advantages, r.Grad.LogP)
	// Output:
	// advantages [0.6667 -0.6667 -0.6667 0.6667]
	// d loss/d ℓ [[-0.1667] [0.1667] [0.1667] [-0.1667]]
}
