package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gemmRef is C = alpha·op(A)·op(B) + beta·C in float64.
func gemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			out[i*n+j] = float64(alpha)*s + float64(beta)*float64(c[i*ldc+j])
		}
	}
	return out
}

var sgemmCases = []struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
}{
	{false, false, 1, 1, 1, 1, 0},
	{false, false, 7, 5, 3, 1, 1},
	{false, false, 37, 77, 300, 1, 1},
	{true, false, 37, 77, 300, 1, 0},
	{false, true, 37, 77, 300, 0.5, 0},
	{true, true, 37, 77, 300, -2, 0.25},
	{false, false, 64, 259, 128, 1, 0},
	{false, true, 130, 33, 513, 1, 1},
	{true, false, 9, 4100, 20, 1, 1},
	{false, false, 400, 48, 16, 1, 0},
	{false, false, 30, 100, 300, 1, 1}, // B read in place, a partial panel packed
	{false, false, 64, 96, 257, 0.5, 0},
	{false, false, 1, 300, 77, 1, 1}, // rows on the matrix-vector kernel
	{true, true, 2, 259, 64, 0.5, 1},
	{false, true, 1, 7, 5, 1, 0},
	{true, false, 2, 16, 33, -1, 0.5},
	{true, false, 2, 9, 1, 1, 0}, // one row of a transposed A is its column
}

// TestNativeSgemm checks every micro-kernel this CPU has against a float64
// reference (transposes, edges, k blocks, alpha and beta), and that all of
// them give the same bits.
func TestNativeSgemm(t *testing.T) {
	ks := nativeKernels()
	if len(ks) == 0 {
		t.Skip("no native sgemm micro-kernel on this CPU/build")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range sgemmCases {
		t.Run(fmt.Sprintf("%v%v_%dx%dx%d_a%g_b%g", tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta), func(t *testing.T) {
			lda, ldb, ldc := tc.k+3, tc.n+1, tc.n+2
			if tc.transA {
				lda = tc.m + 3
			}
			if tc.transB {
				ldb = tc.k + 1
			}
			rowsA, rowsB := tc.m, tc.k
			if tc.transA {
				rowsA = tc.k
			}
			if tc.transB {
				rowsB = tc.n
			}
			a, b, c0 := rndVec(rng, rowsA*lda), rndVec(rng, rowsB*ldb), rndVec(rng, tc.m*ldc)
			want := gemmRef(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c0, ldc)
			var first []float32
			for _, kern := range ks {
				c := append([]float32(nil), c0...)
				nativeSgemm(kern, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
				for i := 0; i < tc.m; i++ {
					for j := 0; j < tc.n; j++ {
						got, w := float64(c[i*ldc+j]), want[i*tc.n+j]
						if d := math.Abs(got - w); d > 1e-5*(1+float64(tc.k)*0.05)*(1+math.Abs(w)) {
							t.Fatalf("%s: C[%d,%d] = %v, want %v", kern.name, i, j, got, w)
						}
					}
					// Padding between rows is never written.
					for j := tc.n; j < ldc; j++ {
						if c[i*ldc+j] != c0[i*ldc+j] {
							t.Fatalf("%s: wrote C[%d,%d] past n", kern.name, i, j)
						}
					}
				}
				if first == nil {
					first = c
					continue
				}
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
						t.Fatalf("%s and %s differ at %d: %v vs %v", ks[0].name, kern.name, i, first[i], c[i])
					}
				}
			}
		})
	}
}

// TestNativeSgemmSplitInvariant: computing C in row or column blocks (as
// Gemm does over cores, and the sampler over lanes) or one row at a time
// gives the same bits as one call, with B as stored or transposed.
func TestNativeSgemmSplitInvariant(t *testing.T) {
	ks := nativeKernels()
	if len(ks) == 0 {
		t.Skip("no native sgemm micro-kernel on this CPU/build")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	m, n, k := 100, 90, 700
	a, b, c0 := rndVec(rng, m*k), rndVec(rng, k*n), rndVec(rng, m*n)
	for _, kern := range ks {
		whole := append([]float32(nil), c0...)
		nativeSgemm(kern, false, false, m, n, k, 1, a, k, b, n, 1, whole, n)
		rows := append([]float32(nil), c0...)
		for i0 := 0; i0 < m; i0 += 13 {
			h := min(13, m-i0)
			nativeSgemm(kern, false, false, h, n, k, 1, a[i0*k:], k, b, n, 1, rows[i0*n:], n)
		}
		cols := append([]float32(nil), c0...)
		for j0 := 0; j0 < n; j0 += 7 {
			w := min(7, n-j0)
			nativeSgemm(kern, false, false, m, w, k, 1, a, k, b[j0:], n, 1, cols[j0:], n)
		}
		// One row at a time runs on the matrix-vector kernel.
		single := append([]float32(nil), c0...)
		for i := 0; i < m; i++ {
			nativeSgemm(kern, false, false, 1, n, k, 1, a[i*k:], k, b, n, 1, single[i*n:], n)
		}
		for i := range whole {
			if whole[i] != rows[i] || whole[i] != cols[i] || whole[i] != single[i] {
				t.Fatalf("%s: element %d: whole %v, row blocks %v, column blocks %v, single rows %v", kern.name, i, whole[i], rows[i], cols[i], single[i])
			}
		}
		// B transposed: the same values as B, the same chains.
		bt := make([]float32, n*k)
		for p := 0; p < k; p++ {
			for j := 0; j < n; j++ {
				bt[j*k+p] = b[p*n+j]
			}
		}
		wholeT := append([]float32(nil), c0...)
		nativeSgemm(kern, false, true, m, n, k, 1, a, k, bt, k, 1, wholeT, n)
		singleT := append([]float32(nil), c0...)
		for i := 0; i < m; i++ {
			nativeSgemm(kern, false, true, 1, n, k, 1, a[i*k:], k, bt, k, 1, singleT[i*n:], n)
		}
		for i := range whole {
			if whole[i] != wholeT[i] || whole[i] != singleT[i] {
				t.Fatalf("%s: element %d: %v, with B transposed %v, one row at a time %v", kern.name, i, whole[i], wholeT[i], singleT[i])
			}
		}
	}
}

func rndVec(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	return x
}

func TestTranspose8(t *testing.T) {
	if !hasTranspose8 || len(nativeKernels()) == 0 {
		t.Skip("no native kernels on this CPU/build")
	}
	const ss, ds = 11, 13
	src := make([]float32, 8*ss)
	for i := range src {
		src[i] = float32(i)
	}
	dst := make([]float32, 8*ds)
	transpose8(&src[0], ss, &dst[0], ds)
	for r := 0; r < 8; r++ {
		for c := 0; c < 8; c++ {
			if dst[c*ds+r] != src[r*ss+c] {
				t.Fatalf("dst[%d][%d] = %v, want %v", c, r, dst[c*ds+r], src[r*ss+c])
			}
		}
		for c := 8; c < ds; c++ {
			if dst[r*ds+c] != 0 {
				t.Fatalf("wrote dst[%d][%d] outside the block", r, c)
			}
		}
	}
}
