package dapo_test

import (
	"fmt"
	"testing"

	"github.com/grao-lab/grao/algorithms/algotest"
	"github.com/grao-lab/grao/algorithms/dapo"
	"github.com/grao-lab/grao/core"
)

// The contract every algorithm meets; the loss values are checked by the
// shared vectors (algorithms/testdata/vectors/dapo_*.json).
func TestConformance(t *testing.T) {
	algotest.Run(t, &dapo.Algorithm{P: dapo.DefaultParams()}, algotest.Options{Continuous: true})
}

func TestNeedsDynamicSampling(t *testing.T) {
	a := &dapo.Algorithm{P: dapo.DefaultParams()}
	n := a.Needs()
	if n.Keep == nil || n.MaxRounds != 3 {
		t.Fatalf("needs %+v: want a group filter with 3 rounds", n)
	}
	if n.Keep(&core.Group{Rewards: []float64{1, 1, 1}}) || !n.Keep(&core.Group{Rewards: []float64{1, 0, 1}}) {
		t.Error("the filter must drop all-equal groups only")
	}
	a.P.DynamicSampling = false
	if a.Needs().Keep != nil {
		t.Error("dynamic_sampling = false still filters")
	}
}

// The soft overlong penalty with L_max = 20 and L_cache = 4.
func ExampleOverlongPenalty() {
	for _, n := range []int{10, 16, 18, 20, 21} {
		fmt.Printf("%d tokens: %+.2f\n", n, dapo.OverlongPenalty(n, 20, 4))
	}
	// Output:
	// 10 tokens: +0.00
	// 16 tokens: +0.00
	// 18 tokens: -0.50
	// 20 tokens: -1.00
	// 21 tokens: -1.00
}
