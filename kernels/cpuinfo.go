package kernels

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// CPUInfo describes the processor from /proc/cpuinfo (empty fields
// elsewhere): what speed figures and run manifests record beside the BLAS.
type CPUInfo struct {
	Model string  `json:"model"`
	CPUs  int     `json:"cpus"` // logical CPUs (GOMAXPROCS)
	MHz   float64 `json:"mhz"`
	// Vector is the widest fp32 FMA unit the CPU reports, and
	// FLOPsPerCycle its nominal per-core rate assuming two FMA ports.
	Vector        string  `json:"vector"`
	FLOPsPerCycle int     `json:"flops_per_cycle"`
	NominalGFLOPs float64 `json:"nominal_gflops"`
}

// ReadCPUInfo reads the CPU's model, clock and vector extensions from
// /proc/cpuinfo (empty fields elsewhere).
func ReadCPUInfo(cpus int) CPUInfo {
	ci := CPUInfo{CPUs: cpus}
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
