package ops_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/grao-lab/grao/kernels"
	"github.com/grao-lab/grao/kernels/ops"
)

// countingBackend proves that gorgonia's products really reach Current()
// (a test comparing results alone would pass if the adapter were ignored).
type countingBackend struct {
	kernels.Backend
	calls atomic.Int64
}

func (c *countingBackend) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cc []float32, ldc int) {
	c.calls.Add(1)
	c.Backend.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cc, ldc)
}

func (c *countingBackend) Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, cc []float64, ldc int) {
	c.calls.Add(1)
	c.Backend.Dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cc, ldc)
}

// mulGraph evaluates cost = Σ (x·w)·v and its gradients w.r.t. x, w and v:
// the forward pass uses a matrix product and a matrix-vector product, the
// backward pass the transposed products of every weight gradient.
func mulGraph(t *testing.T, dt tensor.Dtype, x, w, v []float64, m, k, n int) (out []float64) {
	t.Helper()
	conv := func(s []float64) any {
		if dt == tensor.Float32 {
			f := make([]float32, len(s))
			for i := range s {
				f[i] = float32(s[i])
			}
			return f
		}
		return append([]float64(nil), s...)
	}
	g := gorgonia.NewGraph()
	xn := gorgonia.NewMatrix(g, dt, gorgonia.WithName("x"), gorgonia.WithValue(tensor.New(tensor.WithShape(m, k), tensor.WithBacking(conv(x)))))
	wn := gorgonia.NewMatrix(g, dt, gorgonia.WithName("w"), gorgonia.WithValue(tensor.New(tensor.WithShape(k, n), tensor.WithBacking(conv(w)))))
	vn := gorgonia.NewVector(g, dt, gorgonia.WithName("v"), gorgonia.WithValue(tensor.New(tensor.WithShape(n), tensor.WithBacking(conv(v)))))
	xw := gorgonia.Must(gorgonia.Mul(xn, wn))
	xwv := gorgonia.Must(gorgonia.Mul(xw, vn))
	cost := gorgonia.Must(gorgonia.Sum(xwv))
	if _, err := gorgonia.Grad(cost, xn, wn, vn); err != nil {
		t.Fatal(err)
	}
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	flat := func(val gorgonia.Value) {
		switch d := val.Data().(type) {
		case []float32:
			for _, f := range d {
				out = append(out, float64(f))
			}
		case []float64:
			out = append(out, d...)
		case float32:
			out = append(out, float64(d))
		case float64:
			out = append(out, d)
		default:
			t.Fatalf("unexpected value type %T", d)
		}
	}
	flat(cost.Value())
	flat(xwv.Value())
	for _, n := range []*gorgonia.Node{xn, wn, vn} {
		gv, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		flat(gv)
	}
	return out
}

func TestUseInGorgonia(t *testing.T) {
	defer gorgonia.Use(gonum.Implementation{}) // gorgonia's own default
	for _, be := range testBackends(t) {
		for _, tc := range []struct {
			dt  tensor.Dtype
			tol float64
		}{{tensor.Float32, 1e-5}, {tensor.Float64, 1e-12}} {
			t.Run(fmt.Sprintf("%s/%v", be.label, tc.dt), func(t *testing.T) {
				const m, k, n = 13, 17, 11
				rng := rand.New(rand.NewPCG(3, 4))
				rnd := func(l int) []float64 {
					s := make([]float64, l)
					for i := range s {
						s[i] = rng.Float64()*2 - 1
					}
					return s
				}
				x, w, v := rnd(m*k), rnd(k*n), rnd(n)

				gorgonia.Use(gonum.Implementation{})
				want := mulGraph(t, tc.dt, x, w, v, m, k, n)

				counter := &countingBackend{Backend: be.Backend}
				old := kernels.Use(counter)
				defer kernels.Use(old)
				ops.UseInGorgonia()
				got := mulGraph(t, tc.dt, x, w, v, m, k, n)
				gorgonia.Use(gonum.Implementation{})

				if counter.calls.Load() == 0 {
					t.Fatal("gorgonia never called the kernels backend")
				}
				if len(got) != len(want) {
					t.Fatalf("got %d values, want %d", len(got), len(want))
				}
				for i := range want {
					if d := math.Abs(got[i] - want[i]); d > tc.tol*(1+math.Abs(want[i]))*k {
						t.Errorf("value %d: %v with %s, %v with gonum", i, got[i], be.label, want[i])
					}
				}
				t.Logf("%d GEMM calls routed through %s", counter.calls.Load(), be.label)
			})
		}
	}
}

// TestGorgoniaBLASGemv checks the unit-stride GEMV-as-GEMM path and the
// strided fallback against gonum directly, in both precisions.
func TestGorgoniaBLASGemv(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const m, n, lda = 5, 3, 4 // lda > n: padded rows
	a := make([]float64, m*lda)
	for i := range a {
		a[i] = rng.Float64()
	}
	f32 := func(s []float64) []float32 {
		f := make([]float32, len(s))
		for i := range s {
			f[i] = float32(s[i])
		}
		return f
	}
	for _, be := range testBackends(t) {
		for _, tc := range []struct {
			name       string
			tA         blas.Transpose
			incX, incY int
		}{{"N unit", blas.NoTrans, 1, 1}, {"T unit", blas.Trans, 1, 1}, {"C unit", blas.ConjTrans, 1, 1}, {"N strided", blas.NoTrans, 2, 3}, {"T strided", blas.Trans, 2, 1}} {
			t.Run(be.label+"/"+tc.name, func(t *testing.T) {
				old := kernels.Use(be.Backend)
				defer kernels.Use(old)
				lenX, lenY := n, m
				if tc.tA != blas.NoTrans {
					lenX, lenY = m, n
				}
				x := make([]float64, (lenX-1)*tc.incX+1)
				for i := range x {
					x[i] = rng.Float64()
				}
				y := make([]float64, (lenY-1)*tc.incY+1)
				for i := range y {
					y[i] = rng.Float64()
				}
				want, want32 := append([]float64(nil), y...), f32(y)
				gonum.Implementation{}.Dgemv(tc.tA, m, n, 0.5, a, lda, x, tc.incX, -2, want, tc.incY)
				gonum.Implementation{}.Sgemv(tc.tA, m, n, 0.5, f32(a), lda, f32(x), tc.incX, -2, want32, tc.incY)
				got, got32 := append([]float64(nil), y...), f32(y)
				ops.GorgoniaBLAS{}.Dgemv(tc.tA, m, n, 0.5, a, lda, x, tc.incX, -2, got, tc.incY)
				ops.GorgoniaBLAS{}.Sgemv(tc.tA, m, n, 0.5, f32(a), lda, f32(x), tc.incX, -2, got32, tc.incY)
				for i := range want {
					if math.Abs(got[i]-want[i]) > 1e-12 {
						t.Errorf("Dgemv y[%d] = %v, want %v", i, got[i], want[i])
					}
					if math.Abs(float64(got32[i]-want32[i])) > 1e-5 {
						t.Errorf("Sgemv y[%d] = %v, want %v", i, got32[i], want32[i])
					}
				}
			})
		}
	}
}

// ExampleUseInGorgonia routes a gorgonia matrix product through the
// selected backend (OpenBLAS when present).
func ExampleUseInGorgonia() {
	ops.UseInGorgonia()
	defer gorgonia.Use(gonum.Implementation{})

	g := gorgonia.NewGraph()
	a := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithName("a"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))))
	b := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithName("b"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float32{1, 0, 0, 1, 1, 1}))))
	c := gorgonia.Must(gorgonia.Mul(a, b))
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		panic(err)
	}
	fmt.Println(c.Value().Data())
	// Output: [4 5 10 11]
}

// testBackends lists the backends available in this process: gonum, and
// OpenBLAS when it loads (whatever GRAO_BLAS says).
func testBackends(t testing.TB) []struct {
	label string
	kernels.Backend
} {
	t.Helper()
	type tb = struct {
		label string
		kernels.Backend
	}
	bs := []tb{{"gonum", kernels.Gonum{}}}
	if ob, err := kernels.OpenBLAS(); err == nil {
		bs = append(bs, tb{"openblas", ob})
	} else {
		t.Logf("OpenBLAS not tested: %v", err)
	}
	return bs
}
