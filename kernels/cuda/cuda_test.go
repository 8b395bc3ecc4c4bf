//go:build grao_cuda

package cuda

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/grao-lab/grao/kernels"
	"github.com/grao-lab/grao/kernels/kernelstest"
)

// These tests need a GPU: gorgonia.org/cu ends the process at init without
// one. Build the test binary on any machine with the CUDA headers and run
// it on the GPU machine (docs/blas.md, "CUDA").

func openBackend(t testing.TB) *Backend {
	t.Helper()
	b, err := NewBackend(0)
	if err != nil {
		t.Fatalf("NewBackend(0): %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestConformance(t *testing.T) {
	b := openBackend(t)
	t.Log(b.Info())
	kernelstest.Backend(t, b)
}

// TestSelectedByEnv checks the GRAO_BLAS=cuda wiring when the test binary
// runs with it.
func TestSelectedByEnv(t *testing.T) {
	if os.Getenv(kernels.EnvBLAS) != "cuda" {
		t.Skipf("run with %s=cuda to check the selection", kernels.EnvBLAS)
	}
	if err := kernels.LoadError(); err != nil {
		t.Fatal(err)
	}
	if got := kernels.Current().Name(); got != "cuda" {
		t.Fatalf("current backend %q, want cuda", got)
	}
}

func TestNewRejectsMissingDevice(t *testing.T) {
	if _, err := NewBackend(1 << 20); err == nil {
		t.Fatal("NewBackend(1<<20) succeeded")
	}
}

// BenchmarkSgemm compares the GPU (including the copies in and out) with
// OpenBLAS on square products, where the crossover lies.
func BenchmarkSgemm(b *testing.B) {
	gpu := openBackend(b)
	backends := []kernels.Backend{gpu}
	if ob, err := kernels.OpenBLAS(); err == nil {
		ob.SetThreads(runtime.NumCPU()) // all cores: the fair CPU side of one big product
		backends = append(backends, ob)
	}
	for _, n := range []int{256, 1024, 2048, 4096} {
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		x, y, z := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
		for i := range x {
			x[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		for _, be := range backends {
			b.Run(fmt.Sprintf("%s/n=%d", be.Name(), n), func(b *testing.B) {
				for b.Loop() {
					be.Sgemm(false, true, n, n, n, 1, x, n, y, n, 0, z, n)
				}
				b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
