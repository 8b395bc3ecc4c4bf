package cli

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/pretrain"
	"github.com/grao-lab/grao/core/tokenizer"
	"github.com/grao-lab/grao/kernels"
)

func init() {
	register(command{name: "speed", summary: "measure training and sampling throughput", run: runSpeed})
}

// speedRow is one measurement; JSON field names are a contract for
// scripts comparing runs.
type speedRow struct {
	Model       string  `json:"model"`
	BLAS        string  `json:"blas"`
	Kind        string  `json:"kind"` // "train" | "sample"
	Batch       int     `json:"batch"`
	Seq         int     `json:"seq,omitempty"`
	TokensPerS  float64 `json:"tokens_per_s"`
	MsPerStep   float64 `json:"ms_per_step,omitempty"`
	GFLOPs      float64 `json:"gflops"`
	Repetitions int     `json:"repetitions"`
	Threads     int     `json:"threads,omitempty"` // PyTorch rows: the thread count that gave this figure
	// Optimizer is, on PyTorch training rows, the AdamW that gave this
	// figure (on a GPU the faster of the default and fused ones).
	Optimizer string `json:"optimizer,omitempty"`
	// PeakFraction is GFLOPs over the measured sgemm peak.
	PeakFraction float64 `json:"peak_fraction,omitempty"`
	// PeakRSSMiB is the peak resident set size of the fresh process that
	// measured this model (training and sampling), whichever side.
	PeakRSSMiB float64 `json:"peak_rss_mib,omitempty"`
	// AllocsPerStep is grao's heap allocations per training step.
	AllocsPerStep float64 `json:"allocs_per_step,omitempty"`
	// GPUMemMiB is the most GPU memory the training steps held, on
	// --device cuda: PyTorch's torch.cuda.max_memory_allocated, and grao's
	// engine's own allocations (weights, gradients, moments, activations).
	GPUMemMiB float64 `json:"gpu_mem_mib,omitempty"`
}

// speedup is the ratio of two backends' median throughputs for one
// (model, kind, batch), measured in the same interleaved rounds.
type speedup struct {
	Model string  `json:"model"`
	Kind  string  `json:"kind"`
	Batch int     `json:"batch"`
	Of    string  `json:"of"`
	Over  string  `json:"over"`
	Ratio float64 `json:"ratio"`
}

type speedReport struct {
	Version    string `json:"version"`
	GoVersion  string `json:"go"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	BLASInfo   string `json:"blas_info"`
	Rounds     int    `json:"rounds"`
	// Peak is the best of Peaks, the probes of every fast sgemm this
	// machine has (the native one and OpenBLAS, where present).
	Peak     *peakProbe  `json:"peak,omitempty"`
	Peaks    []peakProbe `json:"peaks,omitempty"`
	Rows     []speedRow  `json:"results"`
	Speedups []speedup   `json:"speedups,omitempty"`
}

func runSpeed(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("speed", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	models := fs.String("models", "small,medium", "comma-separated model presets or model directories (their shape, on random weights)")
	blas := fs.String("blas", "current", "BLAS to measure: current, native, openblas, gonum, a comma-separated list of them, both (openblas,gonum) or all (every one available)")
	trainSteps := fs.Int("train-steps", 10, "timed training steps per model and round (after one warm-up)")
	rounds := fs.Int("rounds", 3, "rounds; each measures every backend in turn, and the medians over rounds are reported")
	peak := fs.Bool("peak", true, "measure the machine's fp32 peak (best sgemm) and show each row's share of it")
	batch := fs.Int("batch", 16, "training batch (sequences)")
	newTokens := fs.Int("new-tokens", 64, "tokens generated per sampling row")
	torchPython := fs.String("torch", "", "also measure PyTorch on the same shapes with this Python interpreter (e.g. /usr/bin/python3 with python3-torch)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of grao's measurement to this file (go tool pprof); grao then runs in this process, not a fresh one")
	device := fs.String("device", "cpu", "the engine to measure: cpu (on each --blas), or cuda in a bench built with -tags grao_cuda (PyTorch then runs on the GPU too)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if err := model.CheckEngine(*device); err != nil {
		return badInput("--device: %v", err)
	}
	onCPU := *device == "cpu" || *device == ""
	if *trainSteps < 1 || *rounds < 1 || *batch < 1 || *newTokens < 1 {
		return badInput("--train-steps, --rounds, --batch and --new-tokens must be at least 1")
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return badInput("--cpuprofile: %v", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	backends, err := speedBackends(*blas)
	if err != nil {
		return err
	}
	engines := make([]speedEngine, 0, len(backends)+1)
	if onCPU {
		for _, b := range backends {
			engines = append(engines, blasEngine(b, *trainSteps, *batch, *newTokens, *cpuProfile != ""))
		}
	} else {
		// A GPU engine's speed is not the CPU's fp32 peak's business.
		*peak = false
		engines = append(engines, deviceEngine(*device, *trainSteps, *batch, *newTokens, *cpuProfile != ""))
	}
	if *torchPython != "" {
		engines = append(engines, torchEngine(*torchPython, *device, *trainSteps, *batch, *newTokens))
	}
	rep := speedReport{Version: versionString(), GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		BLASInfo: kernels.Current().Info(), Rounds: *rounds}
	// Presets are checked before anything runs: a typo in the last one
	// must not cost the measurement of the others.
	names := strings.Split(*models, ",")
	configs := make([]model.Config, len(names))
	for i, name := range names {
		names[i] = strings.TrimSpace(name)
		if configs[i], err = speedModel(names[i]); err != nil {
			return badInput("--models: %v", err)
		}
	}
	if *peak {
		for _, name := range peakBackends(backends[0].Name()) {
			p, err := peakChild(name)
			if err != nil {
				return err
			}
			rep.Peaks = append(rep.Peaks, p)
			if rep.Peak == nil || p.GFLOPs > rep.Peak.GFLOPs {
				rep.Peak = &rep.Peaks[len(rep.Peaks)-1]
			}
			if !*asJSON {
				fmt.Fprintf(stderr, "measured the fp32 peak of %s: %.0f GFLOP/s\n", name, p.GFLOPs)
			}
		}
	}
	for mi, name := range names {
		mc := configs[mi]
		// samples[backend][row] collects one measurement per round. Rounds
		// alternate the backends so that a slow spell of a shared machine
		// hits all of them, and the ratios compare like with like.
		samples := make([][][]speedRow, len(engines))
		for r := 0; r < *rounds; r++ {
			for i, e := range engines {
				rows, err := e.measure(name, mc)
				if err != nil {
					return err
				}
				if samples[i] == nil {
					samples[i] = make([][]speedRow, len(rows))
				}
				for k := range rows {
					rows[k].BLAS = e.name
					samples[i][k] = append(samples[i][k], rows[k])
				}
				if !*asJSON {
					fmt.Fprintf(stderr, "measured %s with %s (round %d/%d)\n", name, e.name, r+1, *rounds)
				}
			}
		}
		med := make([][]speedRow, len(engines))
		for i := range engines {
			for _, rs := range samples[i] {
				m := medianRow(rs)
				if rep.Peak != nil && rep.Peak.GFLOPs > 0 {
					m.PeakFraction = m.GFLOPs / rep.Peak.GFLOPs
				}
				med[i] = append(med[i], m)
			}
			rep.Rows = append(rep.Rows, med[i]...)
		}
		for i := 1; i < len(engines); i++ {
			for k, row := range med[0] {
				if k < len(med[i]) {
					rep.Speedups = append(rep.Speedups, speedup{Model: name, Kind: row.Kind, Batch: row.Batch,
						Of: row.BLAS, Over: med[i][k].BLAS, Ratio: row.TokensPerS / med[i][k].TokensPerS})
				}
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "grao %s, %s, GOMAXPROCS=%d, %s\n", rep.Version, rep.GoVersion, rep.GOMAXPROCS, rep.BLASInfo)
	if rep.Peak != nil {
		fmt.Fprintln(stdout, rep.Peak)
		for _, p := range rep.Peaks {
			if p.BLAS != rep.Peak.BLAS {
				fmt.Fprintf(stdout, "  (%s's best sgemm: %.0f GFLOP/s, n=%d, %s)\n", p.BLAS, p.GFLOPs, p.Size, p.How)
			}
		}
	}
	if rep.Rounds > 1 {
		fmt.Fprintf(stdout, "medians over %d interleaved rounds, each side in a fresh process\n", rep.Rounds)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tblas\tkind\tbatch\ttokens/s\tms/step\tGFLOP/s\t% peak\tpeak RSS MiB\tallocs/step\tthreads\t")
	for _, r := range rep.Rows {
		ms, allocs, threads := "-", "-", "-" // sampling has no step
		if r.Kind == "train" {
			ms = fmt.Sprintf("%.1f", r.MsPerStep)
			if r.AllocsPerStep > 0 {
				allocs = fmt.Sprintf("%.0f", r.AllocsPerStep)
			}
		}
		if r.Threads > 0 {
			threads = strconv.Itoa(r.Threads)
		}
		pct := "-"
		if r.PeakFraction > 0 {
			pct = fmt.Sprintf("%.0f%%", 100*r.PeakFraction)
		}
		rss := "-"
		if r.PeakRSSMiB > 0 {
			rss = fmt.Sprintf("%.0f", r.PeakRSSMiB)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.0f\t%s\t%.1f\t%s\t%s\t%s\t%s\t\n", r.Model, r.BLAS, r.Kind, r.Batch, r.TokensPerS, ms, r.GFLOPs, pct, rss, allocs, threads)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range rep.Speedups {
		fmt.Fprintf(stdout, "speedup %s %s batch %d: %s %.2fx %s\n", s.Model, s.Kind, s.Batch, s.Of, s.Ratio, s.Over)
	}
	for _, r := range rep.Rows {
		if r.Optimizer != "" && r.Kind == "train" {
			fmt.Fprintf(stdout, "optimizer %s %s (training): %s\n", r.Model, r.BLAS, r.Optimizer)
		}
		if r.GPUMemMiB > 0 {
			fmt.Fprintf(stdout, "gpu memory %s %s (training): %.0f MiB\n", r.Model, r.BLAS, r.GPUMemMiB)
		}
	}
	return nil
}

// medianRow returns the round with the median throughput (the lower
// middle one for an even count), with Repetitions summed over rounds.
func medianRow(rs []speedRow) speedRow {
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b speedRow) int { return cmp.Compare(a.TokensPerS, b.TokensPerS) })
	m := sorted[(len(sorted)-1)/2]
	m.Repetitions = 0
	for _, r := range rs {
		m.Repetitions += r.Repetitions
	}
	return m
}

func speedBackends(which string) ([]kernels.Backend, error) {
	if strings.Contains(which, ",") {
		var bs []kernels.Backend
		for _, w := range strings.Split(which, ",") {
			b, err := speedBackends(strings.TrimSpace(w))
			if err != nil {
				return nil, err
			}
			for _, x := range b {
				if !slices.ContainsFunc(bs, func(y kernels.Backend) bool { return y.Name() == x.Name() }) {
					bs = append(bs, x)
				}
			}
		}
		return bs, nil
	}
	switch which {
	case "current":
		return []kernels.Backend{kernels.Current()}, nil
	case "gonum":
		return []kernels.Backend{kernels.Gonum{}}, nil
	case "native":
		nb, err := kernels.NativeBackend()
		if err != nil {
			return nil, badInput("--blas native: %v", err)
		}
		return []kernels.Backend{nb}, nil
	case "all":
		var bs []kernels.Backend
		if nb, err := kernels.NativeBackend(); err == nil {
			bs = append(bs, nb)
		}
		if ob, err := kernels.OpenBLAS(); err == nil {
			bs = append(bs, ob)
		}
		return append(bs, kernels.Gonum{}), nil
	case "openblas", "both":
		ob, err := kernels.OpenBLAS()
		if err != nil {
			return nil, badInput("--blas %s: %v", which, err)
		}
		if which == "both" {
			return []kernels.Backend{ob, kernels.Gonum{}}, nil
		}
		return []kernels.Backend{ob}, nil
	}
	return nil, badInput("--blas must be current, native, openblas, gonum (or a comma-separated list), both or all, got %q", which)
}

// peakBackends names the sgemms whose peak bench speed probes: every fast
// one this machine has (all but gonum), else the first backend measured.
func peakBackends(first string) []string {
	all, _ := speedBackends("all")
	var names []string
	for _, b := range all {
		if b.Name() != "gonum" {
			names = append(names, b.Name())
		}
	}
	if len(names) == 0 {
		names = []string{first}
	}
	return names
}

// speedEngine is one thing bench speed measures: grao on a BLAS backend,
// or PyTorch on the same shapes. measure returns one row per (kind, batch)
// in a fixed order: train, sample b=1, sample b=32.
type speedEngine struct {
	name    string
	measure func(name string, mc model.Config) ([]speedRow, error)
}

func blasEngine(b kernels.Backend, steps, batch, newTokens int, inProcess bool) speedEngine {
	return speedEngine{name: b.Name(), measure: func(name string, mc model.Config) ([]speedRow, error) {
		if !inProcess {
			return graoChild(speedJob{Kind: "grao", Model: name, BLAS: b.Name(), Steps: steps, Batch: batch, NewTokens: newTokens})
		}
		prev := kernels.Use(b)
		defer kernels.Use(prev)
		return measureModel(name, mc, "", steps, batch, newTokens)
	}}
}

// deviceEngine is grao on a registered engine other than the CPU's.
func deviceEngine(device string, steps, batch, newTokens int, inProcess bool) speedEngine {
	return speedEngine{name: device, measure: func(name string, mc model.Config) ([]speedRow, error) {
		if !inProcess {
			return graoChild(speedJob{Kind: "grao", Model: name, Device: device, Steps: steps, Batch: batch, NewTokens: newTokens})
		}
		return measureModel(name, mc, device, steps, batch, newTokens)
	}}
}

//go:embed torch_speed.py
var torchSpeedScript string

// torchEngine runs torch_speed.py with the given interpreter. PyTorch is
// measured with one thread and with as many as grao has cores (GOMAXPROCS),
// keeping the faster per row, so the comparison errs in PyTorch's favour;
// GFLOP/s are computed here with grao's FLOP count.
func torchEngine(python, device string, steps, batch, newTokens int) speedEngine {
	return speedEngine{name: "pytorch", measure: func(name string, mc model.Config) ([]speedRow, error) {
		arg, _ := json.Marshal(map[string]any{
			"vocab": mc.VocabSize, "d": mc.DModel, "layers": mc.NLayer, "heads": mc.NHead, "ctx": mc.Context,
			"batch": batch, "train_steps": steps, "new_tokens": newTokens, "sample_batches": []int{1, 32},
			"threads": slices.Compact([]int{1, runtime.GOMAXPROCS(0)}), "device": device,
		})
		if _, err := exec.LookPath(python); err != nil {
			return nil, badInput("--torch %s: %v", python, err)
		}
		cmd := exec.Command(python, "-c", torchSpeedScript, string(arg))
		var res struct {
			Results []struct {
				speedRow
				NewTokens int `json:"new_tokens"`
			} `json:"results"`
		}
		// e.g. no torch module: the script's own message is in the error
		rss, err := runChild(cmd, &res, "--torch "+python)
		if err != nil {
			return nil, err
		}
		var rows []speedRow
		for _, r := range res.Results {
			row := r.speedRow
			row.Model, row.PeakRSSMiB = name, rss
			switch row.Kind {
			case "train":
				row.GFLOPs = 3 * seqFLOPs(mc, row.Seq, 0) * float64(row.Batch) / (row.MsPerStep / 1e3) / 1e9
			case "sample":
				// tokens_per_s·FLOPs per generated token, positions 3..3+n.
				row.GFLOPs = row.TokensPerS * seqFLOPs(mc, r.NewTokens, 3) / float64(r.NewTokens) / 1e9
			}
			rows = append(rows, row)
		}
		return rows, nil
	}}
}

// seqFLOPs is the forward FLOPs of n tokens at positions from, from+1, ….
func seqFLOPs(mc model.Config, n, from int) float64 {
	var f float64
	for t := from; t < from+n; t++ {
		f += mc.FLOPsPerToken(t)
	}
	return f
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// measureModel times full training steps (forward, backward, AdamW) on
// random full-length sequences, then KV-cache sampling at batch 1 and 32.
func measureModel(name string, mc model.Config, device string, steps, batch, newTokens int) ([]speedRow, error) {
	seq := mc.Context
	oc := optim.DefaultConfig()
	cfg := pretrain.Config{Model: mc, Steps: steps + 1, Batch: batch, Seq: seq, Optim: oc, Seed: 1}
	var stepTimes []time.Duration
	var ms runtime.MemStats
	var mallocs uint64
	last := time.Now()
	trained, err := pretrain.RunOn(context.Background(), device, cfg, randomText{}, func(pr pretrain.Progress) {
		now := time.Now()
		if pr.Step > 1 { // the first step builds buffers
			stepTimes = append(stepTimes, now.Sub(last))
		}
		// Allocation counts from the end of the warm-up step on; reading
		// them stops the world for microseconds, outside the timed span.
		if pr.Step == 1 || pr.Step == steps+1 {
			runtime.ReadMemStats(&ms)
			mallocs = ms.Mallocs - mallocs
		}
		last = time.Now()
	})
	if err != nil {
		return nil, err
	}
	var total time.Duration
	for _, d := range stepTimes {
		total += d
	}
	perStep := total.Seconds() / float64(len(stepTimes))
	tokens := float64(batch * seq)
	fwd := seqFLOPs(mc, seq, 0)
	// Backward costs about twice the forward.
	rows := []speedRow{{Model: name, Kind: "train", Batch: batch, Seq: seq, TokensPerS: tokens / perStep,
		MsPerStep: perStep * 1e3, GFLOPs: 3 * fwd * float64(batch) / perStep / 1e9, Repetitions: len(stepTimes),
		AllocsPerStep: float64(mallocs) / float64(len(stepTimes))}}
	if d, ok := trained.(interface{ PeakDeviceMemory() int64 }); ok {
		rows[0].GPUMemMiB = float64(d.PeakDeviceMemory()) / (1 << 20)
	}

	p, err := model.Init(mc, 1)
	if err != nil {
		return nil, err
	}
	eng, err := model.NewEngine(device, p, oc)
	if err != nil {
		return nil, err
	}
	for _, b := range []int{1, 32} {
		prompt := []int{tokenizer.BOS, 'H', 'i'}
		prompts := make([][]int, b)
		for i := range prompts {
			prompts[i] = prompt
		}
		n := min(newTokens, mc.Context-len(prompt))
		// Temperature 1 on a random model rarely hits EOS; count what was made.
		cfg := model.SampleConfig{Temperature: 1, MaxNew: n, Seed: 1, Block: b}
		s := sampleFunc(func(prompts [][]int, cfg model.SampleConfig) ([]model.Completion, error) {
			return eng.Sample(context.Background(), prompts, cfg)
		})
		if _, err := s.Generate(prompts, cfg); err != nil { // warm-up
			return nil, err
		}
		// At least three generations and a second of them: one alone is
		// too short to time on a shared machine.
		var made, reps int
		var flops float64
		start := time.Now()
		for reps < 3 || time.Since(start) < time.Second {
			outs, err := s.Generate(prompts, cfg)
			if err != nil {
				return nil, err
			}
			reps++
			for _, o := range outs {
				made += len(o.Tokens)
				for t := range o.Tokens {
					flops += mc.FLOPsPerToken(len(prompt) + t)
				}
			}
		}
		el := time.Since(start).Seconds()
		rows = append(rows, speedRow{Model: name, Kind: "sample", Batch: b, TokensPerS: float64(made) / el,
			GFLOPs: flops / el / 1e9, Repetitions: reps})
	}
	return rows, nil
}

// speedModel is a preset, or the architecture of a model directory (a
// grao checkpoint or a Hugging Face GPT-2 directory; its weights are not
// read: speed is measured on random weights of that shape).
func speedModel(name string) (model.Config, error) {
	if st, err := os.Stat(name); err == nil && st.IsDir() {
		return checkpoint.OpenConfig(name)
	}
	return model.Preset(name)
}

// sampleFunc lets the timing loop call an engine's Sample as it called
// the sampler's Generate.
type sampleFunc func([][]int, model.SampleConfig) ([]model.Completion, error)

func (f sampleFunc) Generate(prompts [][]int, cfg model.SampleConfig) ([]model.Completion, error) {
	return f(prompts, cfg)
}

// randomText feeds training steps with random bytes (speed only).
type randomText struct{}

func (randomText) Next(rng *rand.Rand, n, seq int) [][]int {
	out := make([][]int, n)
	for i := range out {
		ids := make([]int, seq)
		ids[0] = tokenizer.BOS
		for j := 1; j < seq; j++ {
			ids[j] = 32 + rng.IntN(95)
		}
		out[i] = ids
	}
	return out
}
