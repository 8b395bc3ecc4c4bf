package sweep

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/tokenizer"
)

// Memory is a trial's estimated peak memory, from its shapes alone: an
// order of magnitude to catch a sweep that cannot fit (d_model = 1048576,
// a million prompts per step) before it runs, not a prediction of RSS.
type Memory struct {
	// Params is the model's parameter count.
	Params float64
	// Weights are the policy, its frozen starting copy, the gradients and
	// AdamW's two moments, in float32.
	Weights float64
	// Activations are the training graph's (kept for the backward pass)
	// and the sampler's KV cache.
	Activations float64
}

// Total is the estimated peak resident memory in bytes: Go's garbage
// collector lets the heap grow to twice the live data (GOGC = 100), and
// the runtime, evaluation and tokenised data add about 100 MiB. Checked
// against measured trial peaks on the small model (8 prompts): SFT 195 MiB
// measured vs 204 estimated, GRPO with G = 16 1.2–1.8 GiB vs 1.5.
func (m Memory) Total() float64 { return 2*(m.Weights+m.Activations) + 100<<20 }

// EstimateMemory estimates a trial's peak memory given what its algorithm
// needs; every product is in float64, so absurd shapes give huge numbers,
// not overflows.
func EstimateMemory(t Trial, n core.Needs) Memory {
	d, L, H, ctx := float64(t.Model.DModel), float64(t.Model.NLayer), float64(max(t.Model.NHead, 1)), float64(t.Model.Context)
	V := float64(tokenizer.VocabSize)
	if t.Model.VocabSize > 0 {
		V = float64(t.Model.VocabSize)
	}
	const f32 = 4
	params := V*d + ctx*d + L*(12*d*d+13*d) + 2*d
	rows := float64(t.Train.Prompts) * float64(n.Samples+b2i(n.Reference)+2*b2i(n.Pairs))
	// Per token and layer the graph keeps about 16·d values (q, k, v,
	// attention output, the MLP's 4·d before and after GELU, layer norms,
	// residuals) and H·ctx attention probabilities, twice for the backward
	// pass; the tied head's logits, softmax and gradient are 3·V per token.
	graph := f32 * rows * ctx * (L*2*(16*d+H*ctx) + 3*V)
	batch := math.Min(float64(t.Train.Prompts)*float64(n.Samples), 64)
	kv := f32 * batch * ctx * L * 2 * d
	return Memory{Params: params, Weights: f32 * params * 5, Activations: graph + kv}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// machineMemory is the machine's physical memory in bytes (0: unknown).
func machineMemory() float64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

var sizeRe = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*(B|KiB|MiB|GiB|TiB|KB|MB|GB|TB)?\s*$`)

// parseSize reads "16GiB", "512 MiB", "2.5GB" or a number of bytes.
func parseSize(s string) (float64, error) {
	m := sizeRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size (e.g. \"16GiB\", \"512MiB\")", s)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	mult := map[string]float64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
		"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[m[2]]
	if v <= 0 {
		return 0, fmt.Errorf("%q: want a positive size", s)
	}
	return v * mult, nil
}

func gib(b float64) string {
	if math.IsInf(b, 0) || b > 1e18 {
		return "more than an exabyte"
	}
	return fmt.Sprintf("%.1f GiB", b/(1<<30))
}

// checkMemory estimates every trial's memory. Against an explicit
// memory_limit a trial that does not fit is an error; without one, a
// trial that exceeds this machine's memory is a warning (a cluster sweep
// still validates on a laptop).
func (s *Sweep) checkMemory(trials []Trial, el *errList) {
	s.warnings = nil
	limit, machine := 0.0, machineMemory()
	if s.MemoryLimit != "" {
		l, err := parseSize(s.MemoryLimit)
		if err != nil {
			el.add(s.line("memory_limit"), "memory_limit", "%v", err)
			return
		}
		limit = l
	}
	seen := map[string]bool{}
	// Seeds and grid points share an algorithm configuration: build each
	// once (an algorithm plugin answers every build over RPC).
	needs := map[string]*core.Needs{}
	for _, t := range trials {
		key, _ := json.Marshal([]any{t.Algorithm, t.Params})
		n, ok := needs[string(key)]
		if !ok {
			if alg, err := algorithms.New(t.Algorithm, t.Params); err == nil {
				nn := alg.Needs()
				n = &nn
			}
			needs[string(key)] = n
		}
		if n == nil {
			continue // reported by validation
		}
		m := EstimateMemory(t, *n)
		what := fmt.Sprintf("trial %s (model %s, %.3g parameters, %d prompts per step) needs about %s (%s of weights and optimiser state, %s of activations)",
			t.ID, t.Model.Label, m.Params, t.Train.Prompts, gib(m.Total()), gib(m.Weights), gib(m.Activations))
		switch {
		case limit > 0 && m.Total() > limit:
			el.add(s.line("memory_limit"), "memory_limit", "%s, more than the limit of %s", what, gib(limit))
		case limit == 0 && machine > 0 && m.Total() > machine:
			key := fmt.Sprintf("%s/%d/%s", t.Model.Label, t.Train.Prompts, t.Algorithm)
			if !seen[key] {
				seen[key] = true
				s.warnings = append(s.warnings, fmt.Sprintf("%s, more than this machine's %s (memory_limit makes this an error)", what, gib(machine)))
			}
		}
	}
}

// Warnings are the problems Expand found that do not stop a sweep (a
// trial estimated to need more memory than this machine has).
func (s *Sweep) Warnings() []string { return s.warnings }
