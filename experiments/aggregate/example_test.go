package aggregate_test

import (
	"fmt"

	"github.com/grao-lab/grao/experiments/aggregate"
)

// Scores of three seeds (runs) on four kinds of prompts (tasks). The IQM
// pools all twelve, drops the three lowest and three highest and averages
// the middle six, so the one collapsed seed (0.05 on task 3) barely moves
// it while it pulls the mean down.
func ExampleIQM() {
	scores := [][]float64{
		{0.62, 0.71, 0.55, 0.05},
		{0.60, 0.74, 0.58, 0.49},
		{0.65, 0.69, 0.52, 0.47},
	}
	fmt.Printf("IQM %.3f, mean %.3f, median %.3f\n",
		aggregate.IQM(scores), aggregate.Mean(scores), aggregate.Median(scores))
	// Output:
	// IQM 0.587, mean 0.556, median 0.590
}

// Sixteen samples per prompt, five of them correct: pass@1 is the plain
// rate 5/16, and drawing more samples makes finding a correct one likely.
func ExamplePassAtK() {
	for _, k := range []int{1, 4, 12} {
		fmt.Printf("pass@%d = %.4f\n", k, aggregate.PassAtK(16, 5, k))
	}
	fmt.Printf("mean pass@4 over prompts = %.4f\n", aggregate.MeanPassAtK(16, []int{0, 5, 16}, 4))
	// Output:
	// pass@1 = 0.3125
	// pass@4 = 0.8187
	// pass@12 = 1.0000
	// mean pass@4 over prompts = 0.6062
}

// Algorithm X against Y on two tasks: per task, the chance that a random
// seed of X scores higher than a random seed of Y (ties count half),
// averaged over tasks.
func ExampleProbImprovement() {
	x := [][]float64{{0.8, 0.4}, {0.7, 0.5}, {0.9, 0.5}}
	y := [][]float64{{0.6, 0.5}, {0.75, 0.3}}
	fmt.Printf("P(X > Y) = %.4f\n", aggregate.ProbImprovement(x, y))
	fmt.Printf("P(Y > X) = %.4f\n", aggregate.ProbImprovement(y, x))
	// Output:
	// P(X > Y) = 0.7500
	// P(Y > X) = 0.2500
}

// A stratified bootstrap resamples seeds within each task; the seed makes
// the interval reproducible.
func ExampleBootstrap_Aggregate() {
	scores := [][]float64{
		{0.62, 0.71, 0.55, 0.05},
		{0.60, 0.74, 0.58, 0.49},
		{0.65, 0.69, 0.52, 0.47},
		{0.58, 0.77, 0.61, 0.52},
	}
	b := aggregate.Bootstrap{Resamples: 2000, Seed: 1}
	iv, err := b.Aggregate(scores, aggregate.IQM)
	if err != nil {
		fmt.Println(err)
		return
	}
	again, _ := b.Aggregate(scores, aggregate.IQM)
	fmt.Printf("IQM %.3f, interval contains it: %v, reproducible: %v\n",
		iv.Point, iv.Lo <= iv.Point && iv.Point <= iv.Hi, iv == again)
	// Output:
	// IQM 0.589, interval contains it: true, reproducible: true
}
