package cli

import (
	"fmt"
	"runtime"
	"time"

	"github.com/grao-lab/grao/kernels"
)

// peakProbe is the machine's fp32 throughput as measured and as nominal.
// Speed figures are read against the measured peak: what the best sgemm of
// the BLAS in use reaches on all cores is what a transformer step could
// reach at most; the nominal figure (cores × clock × vector FLOPs per
// cycle) says how far that is from the hardware's paper limit, which
// differs between machines of one kind (AVX-512 or only AVX2, one or two
// FMA units, hyperthreads counted as cores).
type peakProbe struct {
	BLAS    string          `json:"blas"`
	GFLOPs  float64         `json:"gflops"` // best sgemm over the sizes tried
	Size    int             `json:"size"`   // the square size that gave it
	Threads int             `json:"threads"`
	How     string          `json:"how"` // "blas threads" or "grao's split"
	CPU     kernels.CPUInfo `json:"cpu"`
}

// measurePeak times square sgemms of 512…4096 on all cores, both with the
// BLAS's own threads and with grao's row split over single-threaded BLAS
// calls, and keeps the best.
func measurePeak(b kernels.Backend) peakProbe {
	threads := runtime.GOMAXPROCS(0)
	best := peakProbe{BLAS: b.Name(), Threads: threads, CPU: kernels.ReadCPUInfo(threads)}
	slow := false
	for _, n := range []int{512, 1024, 2048, 4096} {
		if slow {
			break
		}
		a := make([]float32, n*n)
		bm := make([]float32, n*n)
		c := make([]float32, n*n)
		for i := range a {
			a[i] = float32(i%7) * 0.01
			bm[i] = float32(i%5) * 0.01
		}
		for _, how := range []string{"blas threads", "grao's split"} {
			run := func() {
				if how == "blas threads" {
					b.Sgemm(false, false, n, n, n, 1, a, n, bm, n, 0, c, n)
				} else {
					kernels.Gemm(false, false, n, n, n, 1, a, n, bm, n, 0, c, n)
				}
			}
			if how == "blas threads" {
				b.SetThreads(threads)
			} else {
				b.SetThreads(1)
			}
			t0 := time.Now()
			run() // warm-up: pages, thread pool
			if time.Since(t0) > 2*time.Second {
				slow = true // a slow BLAS (the pure-Go one): larger sizes would take minutes
			}
			reps, start := 0, time.Now()
			for reps < 1 || time.Since(start) < 300*time.Millisecond {
				run()
				reps++
			}
			g := 2 * float64(n) * float64(n) * float64(n) * float64(reps) / time.Since(start).Seconds() / 1e9
			if g > best.GFLOPs {
				best.GFLOPs, best.Size, best.How = g, n, how
			}
		}
	}
	b.SetThreads(1)
	return best
}

func (p peakProbe) String() string {
	s := fmt.Sprintf("fp32 peak: %.0f GFLOP/s measured (best sgemm: %s, n=%d, %d threads, %s)", p.GFLOPs, p.BLAS, p.Size, p.Threads, p.How)
	if c := p.CPU; c.NominalGFLOPs > 0 {
		s += fmt.Sprintf("; nominal %.0f = %d CPUs × %.2f GHz (the clock /proc/cpuinfo reports; boost clocks are higher) × %d FLOP/cycle (%s, two FMA ports assumed; hyperthreads count as CPUs)",
			c.NominalGFLOPs, c.CPUs, c.MHz/1e3, c.FLOPsPerCycle, c.Vector)
	}
	if p.CPU.Model != "" {
		s += "\ncpu: " + p.CPU.Model
	}
	return s
}
