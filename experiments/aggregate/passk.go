package aggregate

import (
	"fmt"
	"math"
)

// PassAtK is the unbiased estimator of pass@k of Chen et al. 2021 from n
// samples of which c are correct: 1 − C(n−c, k)/C(n, k), the chance that k
// of the n samples drawn without replacement include a correct one. It is
// computed as 1 − ∏_{i=n−c+1}^{n} (1 − k/i), because C(n, k) overflows
// float64 near n = 1030 and loses precision long before; it is 1 when
// n − c < k. It panics when k < 1, k > n, c < 0 or c > n: those counts
// are a bug in the caller, not data.
func PassAtK(n, c, k int) float64 {
	if k < 1 || k > n || c < 0 || c > n {
		panic(fmt.Sprintf("aggregate: PassAtK(n=%d, c=%d, k=%d): want 1 ≤ k ≤ n and 0 ≤ c ≤ n", n, c, k))
	}
	if n-c < k {
		return 1
	}
	p := 1.0
	for i := n - c + 1; i <= n; i++ {
		p *= 1 - float64(k)/float64(i)
	}
	return 1 - p
}

// MeanPassAtK averages PassAtK over prompts, given each prompt's number of
// correct samples out of the same n. NaN for no prompts; panics as
// PassAtK does.
func MeanPassAtK(n int, correct []int, k int) float64 {
	if len(correct) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, c := range correct {
		s += PassAtK(n, c, k)
	}
	return s / float64(len(correct))
}
