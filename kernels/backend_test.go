package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/grao-lab/grao/kernels"
	"github.com/grao-lab/grao/kernels/kernelstest"
)

// TestGemmGeneric checks the generic dispatcher against the backend it
// dispatches to, in both precisions.
func TestGemmGeneric(t *testing.T) {
	for _, be := range testBackends(t) {
		t.Run(be.label, func(t *testing.T) {
			old := kernels.Use(be.Backend)
			defer kernels.Use(old)
			a := []float64{1, 2, 3, 4, 5, 6}  // 2×3
			b := []float64{1, 0, 0, 1, 1, 1}  // 3×2
			want := []float64{2.5, 3, 5.5, 6} // 0.5·A·B + 1·C with A·B = [4 5; 10 11], C = 0.5
			c64 := []float64{0.5, 0.5, 0.5, 0.5}
			kernels.Gemm(false, false, 2, 2, 3, 0.5, a, 3, b, 2, 1, c64, 2)
			c32 := []float32{0.5, 0.5, 0.5, 0.5}
			a32, b32 := make([]float32, 6), make([]float32, 6)
			for i := range a {
				a32[i], b32[i] = float32(a[i]), float32(b[i])
			}
			kernels.Gemm(false, false, 2, 2, 3, float32(0.5), a32, 3, b32, 2, 1, c32, 2)
			for i := range want {
				if c64[i] != want[i] || float64(c32[i]) != want[i] {
					t.Fatalf("Gemm: f64 %v, f32 %v, want %v", c64, c32, want)
				}
			}
		})
	}
}

// TestGemmSplit checks Gemm's split of large products into row or column
// blocks over goroutines (above ParallelMinWork), against the naive
// product, and that the result repeats bit for bit.
func TestGemmSplit(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3)) // 3 blocks: uneven split
	cases := []kernelstest.GemmCase{
		{Name: "rows NN", M: 301, N: 130, K: 128, Alpha: 0.7, Beta: -1.3},
		{Name: "rows TT padded", M: 257, N: 129, K: 140, PadA: 3, PadB: 1, PadC: 2, Alpha: 1, Beta: 0, TransA: true, TransB: true},
		{Name: "cols NT", M: 130, N: 301, K: 128, Alpha: -0.5, Beta: 0.25, TransB: true},
		{Name: "cols TN padded", M: 129, N: 257, K: 140, PadA: 1, PadB: 2, PadC: 5, Alpha: 2, Beta: 1, TransA: true},
	}
	for _, be := range testBackends(t) {
		for ci, tc := range cases {
			if tc.M*tc.N*tc.K < kernels.ParallelMinWork {
				t.Fatalf("%s: %d multiply-adds do not reach the split threshold %d", tc.Name, tc.M*tc.N*tc.K, kernels.ParallelMinWork)
			}
			t.Run(be.label+"/"+tc.Name, func(t *testing.T) {
				old := kernels.Use(be.Backend)
				defer kernels.Use(old)
				rng := rand.New(rand.NewPCG(9, uint64(ci)))
				a, lda, b, ldb, c0, ldc := kernelstest.Operands[float32](rng, tc)
				want, scale := kernelstest.NaiveGemm(tc.TransA, tc.TransB, tc.M, tc.N, tc.K, float32(tc.Alpha), a, lda, b, ldb, float32(tc.Beta), c0, ldc)
				c := append([]float32(nil), c0...)
				kernels.Gemm(tc.TransA, tc.TransB, tc.M, tc.N, tc.K, float32(tc.Alpha), a, lda, b, ldb, float32(tc.Beta), c, ldc)
				kernelstest.CheckGemm(t, c, want, scale, ldc, tc.N, c0, kernelstest.Tol32)
				again := append([]float32(nil), c0...)
				kernels.Gemm(tc.TransA, tc.TransB, tc.M, tc.N, tc.K, float32(tc.Alpha), a, lda, b, ldb, float32(tc.Beta), again, ldc)
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(again[i]) {
						t.Fatalf("c[%d] differs between two identical calls: %v vs %v", i, c[i], again[i])
					}
				}
			})
		}
	}
}

// ExampleGemm multiplies a 2×3 by a 3×2 matrix with whichever backend is in
// use (OpenBLAS or gonum give the same answer here).
func ExampleGemm() {
	a := []float32{1, 2, 3, 4, 5, 6} // 2×3, row-major
	b := []float32{1, 0, 0, 1, 1, 1} // 3×2
	c := make([]float32, 4)          // 2×2
	kernels.Gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)
	// Output: [4 5 10 11]
}
