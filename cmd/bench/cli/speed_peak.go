package cli

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
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
	GFLOPs  float64 `json:"gflops"` // best sgemm over the sizes tried
	Size    int     `json:"size"`   // the square size that gave it
	Threads int     `json:"threads"`
	How     string  `json:"how"` // "blas threads" or "grao's split"
	CPU     cpuInfo `json:"cpu"`
}

type cpuInfo struct {
	Model string  `json:"model"`
	CPUs  int     `json:"cpus"` // logical CPUs (GOMAXPROCS)
	MHz   float64 `json:"mhz"`
	// Vector is the widest fp32 FMA unit the CPU reports, and
	// FLOPsPerCycle its nominal per-core rate assuming two FMA ports.
	Vector        string  `json:"vector"`
	FLOPsPerCycle int     `json:"flops_per_cycle"`
	NominalGFLOPs float64 `json:"nominal_gflops"`
}

// measurePeak times square sgemms of 512…4096 on all cores, both with the
// BLAS's own threads and with grao's row split over single-threaded BLAS
// calls, and keeps the best.
func measurePeak(b kernels.Backend) peakProbe {
	threads := runtime.GOMAXPROCS(0)
	best := peakProbe{Threads: threads, CPU: readCPUInfo(threads)}
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

// readCPUInfo reads the CPU's model, clock and vector extensions from
// /proc/cpuinfo (empty fields elsewhere).
func readCPUInfo(cpus int) cpuInfo {
	ci := cpuInfo{CPUs: cpus}
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ci
	}
	defer f.Close()
	var flags map[string]bool
	var vendor string
	family := -1
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case k == "model name" && ci.Model == "":
			ci.Model = v
		case k == "vendor_id" && vendor == "":
			vendor = v
		case k == "cpu family" && family < 0:
			family, _ = strconv.Atoi(v)
		case k == "cpu MHz" && ci.MHz == 0:
			ci.MHz, _ = strconv.ParseFloat(v, 64)
		case k == "flags" && flags == nil:
			flags = map[string]bool{}
			for _, fl := range strings.Fields(v) {
				flags[fl] = true
			}
		}
	}
	switch {
	case flags["avx512f"] && vendor == "AuthenticAMD" && family == 0x19:
		// Zen 4 executes 512-bit instructions in two 256-bit halves.
		ci.Vector, ci.FLOPsPerCycle = "AVX-512 FMA on 256-bit units (Zen 4)", 32
	case flags["avx512f"]:
		ci.Vector, ci.FLOPsPerCycle = "AVX-512 FMA", 64
	case flags["avx2"] && flags["fma"]:
		ci.Vector, ci.FLOPsPerCycle = "AVX2 FMA", 32
	case flags["avx"]:
		ci.Vector, ci.FLOPsPerCycle = "AVX", 16
	case flags["sse2"]:
		ci.Vector, ci.FLOPsPerCycle = "SSE2", 8
	}
	ci.NominalGFLOPs = float64(cpus) * ci.MHz / 1e3 * float64(ci.FLOPsPerCycle)
	return ci
}

func (p peakProbe) String() string {
	s := fmt.Sprintf("fp32 peak: %.0f GFLOP/s measured (best sgemm, n=%d, %d threads, %s)", p.GFLOPs, p.Size, p.Threads, p.How)
	if c := p.CPU; c.NominalGFLOPs > 0 {
		s += fmt.Sprintf("; nominal %.0f = %d CPUs × %.2f GHz (the clock /proc/cpuinfo reports; boost clocks are higher) × %d FLOP/cycle (%s, two FMA ports assumed; hyperthreads count as CPUs)",
			c.NominalGFLOPs, c.CPUs, c.MHz/1e3, c.FLOPsPerCycle, c.Vector)
	}
	if p.CPU.Model != "" {
		s += "\ncpu: " + p.CPU.Model
	}
	return s
}
