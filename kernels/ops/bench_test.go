package ops

import (
	"syscall"
	"testing"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/grao-lab/grao/kernels"
)

// BenchmarkStackStep measures one training step's forward+backward
// (no optimiser update) of the small GPT-like stack: d=128, 2 layers,
// 4 heads, batch 16 × seq 64, byte vocabulary, float32.
func BenchmarkStackStep(b *testing.B) {
	c := stackConfig{vocab: 259, d: 128, nHead: 4, layers: 2, batch: 16, seq: 64, positions: 64}
	g := G.NewGraph()
	s, err := buildStack(g, tensor.Float32, c, 1)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := G.Grad(s.cost, s.params...); err != nil {
		b.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(s.params...))
	defer vm.Close()
	s.fill(c, 1)
	b.Logf("BLAS backend: %s", kernels.Current().Info())
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		for _, p := range s.params {
			gv, _ := p.Grad()
			gv.(tensor.Tensor).Zero()
		}
		vm.Reset()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/step")
	// CPU time of the whole process (all threads, BLAS's included): on a
	// shared, loaded machine it is steadier than wall time.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/step")
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
