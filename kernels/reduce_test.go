package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestColSumBits: the vectorised, core-split column sum is exactly the
// scalar sum of each column in row order.
func TestColSumBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, sh := range [][2]int{{1, 1}, {3, 13}, {2048, 259}, {300, 1024}} {
		rows, n := sh[0], sh[1]
		in := rndVec(rng, rows*n)
		got := make([]float32, n)
		ColSum(got, in, rows, n)
		for j := 0; j < n; j++ {
			var s float32
			for i := 0; i < rows; i++ {
				s += in[i*n+j]
			}
			if math.Float32bits(s) != math.Float32bits(got[j]) {
				t.Fatalf("%dx%d: column %d = %v, want %v", rows, n, j, got[j], s)
			}
		}
	}
}
