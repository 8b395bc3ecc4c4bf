package drgrpo_test

import (
	"fmt"
	"testing"

	"github.com/grao-lab/grao/algorithms/algotest"
	"github.com/grao-lab/grao/algorithms/drgrpo"
	"github.com/grao-lab/grao/algorithms/kit"
)

// The contract every algorithm meets (the trainer's max_new_tokens reaches
// it through SetMaxNewTokens); the loss values are checked by the shared
// vectors (algorithms/testdata/vectors/drgrpo_*.json).
func TestConformance(t *testing.T) {
	algotest.Run(t, &drgrpo.Algorithm{P: drgrpo.DefaultParams()}, algotest.Options{})
}

func TestMaxLenBelowLimitRefused(t *testing.T) {
	a := &drgrpo.Algorithm{P: drgrpo.DefaultParams()}
	a.P.MaxLen = 8
	if err := a.SetMaxNewTokens(16); err == nil {
		t.Error("max_len 8 with max_new_tokens 16 accepted")
	}
}

// No division by σ: rewards 1, 0, 0, 1 give Â = ±0.5, and a one-token
// and a three-token answer weigh by their length over B·L.
func ExampleLoss() {
	in := kit.Input{LogP: [][]float64{{-1}, {-1, -1, -1}}, Rewards: []float64{1, 0}}
	p := drgrpo.DefaultParams()
	p.G, p.MaxLen = 2, 4
	r, err := drgrpo.Loss(in, p)
	if err != nil {
		panic(err)
	}
	fmt.Printf("advantages %.2f\nloss %.4f = (−0.5 + 3·0.5)/(2·4)\n", r.Advantages, r.Loss)
	// Output:
	// advantages [0.50 -0.50]
	// loss 0.1250 = (−0.5 + 3·0.5)/(2·4)
}
