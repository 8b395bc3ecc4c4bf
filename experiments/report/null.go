package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// NullOptions configure an A/A calibration (NullCalibration).
type NullOptions struct {
	// PerArm is the number of seeds in each arm of a split (default: half
	// the seeds).
	PerArm int
	// Splits is the number of random splits (default 200); each is one
	// replicate of the comparison.
	Splits int
	// Metric and Kinds select what is compared, as in a CompareSpec.
	Metric string
	Kinds  []string
	// Resamples is the fixed-seed bootstrap's (the test the crossed test
	// replaced, shown for comparison); Seed seeds it and the splits.
	Resamples int
	Seed      uint64
}

// NullRate is how often one test rejected H0 at Alpha in the splits.
type NullRate struct {
	Test     string
	Rejected int
	Splits   int
	Rate     float64
	Lo, Hi   float64 // Wilson 95% interval over the splits
}

// NullResult is an A/A calibration: the seeds of one column split into
// two disjoint arms many ways, each split run through exactly the tests of
// a pre-registered comparison. Both arms are the same algorithm, so every
// rejection is a false positive.
type NullResult struct {
	Task, Model, Label string
	Metric             string
	Kinds              []string
	Seeds              int // seeds available
	PerArm             int
	Splits             int
	Prompts            int
	// Rates per test: the crossed test, McNemar (success rates only), the
	// seed-level t-test and the verdict (either direction), then the
	// fixed-seed bootstrap and the verdict as they were before the A/A
	// calibration replaced them.
	Rates []NullRate
	// Verdicts holds each split's verdict, in split order, and SplitSeeds
	// the seeds of its arms (A then B): the same splits can be replayed
	// on another run of the same seeds (NullSplitsFrom).
	Verdicts   []string
	SplitSeeds [][2][]int64
}

// NullCalibration runs the A/A calibration on one column's per-prompt
// outcomes. Each split draws 2·PerArm distinct seeds, gives the first
// PerArm to arm A and the rest to B (paired by position) and compares A
// with B (no prediction) as ComparePrompts would compare two algorithms.
// Splits share seeds, so they are not independent replicates: the Wilson
// intervals are those of the rate over these splits, narrower than the
// uncertainty about a new draw of seeds.
func NullCalibration(pd *PromptData, task, model, label string, opts NullOptions) (*NullResult, error) {
	cells := pd.Get(task, model, label)
	if len(cells) == 0 {
		return nil, fmt.Errorf("null: no per-prompt results for %s on %s / %s", label, task, model)
	}
	var seeds []int64
	for s := range cells {
		seeds = append(seeds, s)
	}
	slices.Sort(seeds)
	if opts.PerArm == 0 {
		opts.PerArm = len(seeds) / 2
	}
	if opts.PerArm < 2 || 2*opts.PerArm > len(seeds) {
		return nil, fmt.Errorf("null: %d seeds cannot make two disjoint arms of %d (need at least 4 seeds, 2 per arm)", len(seeds), opts.PerArm)
	}
	if opts.Splits == 0 {
		opts.Splits = 200
	}
	rng := KeyedRNG(opts.Seed, "null\x00"+task+"\x00"+model+"\x00"+label)
	var splits [][2][]int64
	for range opts.Splits {
		perm := slices.Clone(seeds)
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		splits = append(splits, [2][]int64{perm[:opts.PerArm], perm[opts.PerArm : 2*opts.PerArm]})
	}
	return NullSplitsFrom(pd, task, model, label, splits, opts)
}

// NullSplitsFrom runs the A/A comparisons of given splits (seed lists of
// arms A and B).
func NullSplitsFrom(pd *PromptData, task, model, label string, splits [][2][]int64, opts NullOptions) (*NullResult, error) {
	cells := pd.Get(task, model, label)
	if opts.Metric == "" {
		opts.Metric = "RAS"
	}
	if opts.Resamples == 0 {
		opts.Resamples = 10000
	}
	res := &NullResult{Task: task, Model: model, Label: label, Metric: opts.Metric, Kinds: opts.Kinds,
		Seeds: len(cells), Splits: len(splits), SplitSeeds: splits}
	tests := []string{"crossed test (seeds × prompts)", "McNemar (prompt × seed pairs)", "seed t-test", "verdict (crossed and seed tests)",
		"bootstrap over prompts, seeds held fixed (before the fix)", "verdict before the fix (fixed-seed bootstrap, McNemar and seed tests)"}
	counts := make([]int, len(tests))
	runs := make([]int, len(tests))
	for i, sp := range splits {
		res.PerArm = len(sp[0])
		arm := func(ss []int64) map[int64]*Outcomes {
			m := map[int64]*Outcomes{}
			for j, s := range ss {
				o, ok := cells[s]
				if !ok {
					return nil
				}
				m[int64(j+1)] = o
			}
			return m
		}
		a, b := arm(sp[0]), arm(sp[1])
		if a == nil || b == nil {
			return nil, fmt.Errorf("null: split %d names a seed %s / %s / %s lacks", i, task, model, label)
		}
		null := &PromptData{cells: map[[3]string]map[int64]*Outcomes{
			{task, model, "A"}: a, {task, model, "B"}: b}}
		spec := CompareSpec{A: "A", B: "B", Metric: opts.Metric, Kinds: opts.Kinds}
		cs := ComparePrompts(null, []string{task}, []string{model}, []string{"A", "B"}, []CompareSpec{spec})
		if len(cs) != 1 || cs[0].Note != "" {
			note := "no comparison"
			if len(cs) == 1 {
				note = cs[0].Note
			}
			return nil, fmt.Errorf("null: split %d: %s", i, note)
		}
		c := cs[0]
		res.Prompts = c.Prompts
		for t, p := range []float64{c.CrossedHolm, c.McNemarHolm, c.SeedHolm} {
			if math.IsNaN(p) {
				continue
			}
			runs[t]++
			if p < Alpha {
				counts[t]++
			}
		}
		runs[3]++
		if c.Verdict != "not separated" {
			counts[3]++
		}
		// The tests as they were before the A/A calibration: prompts
		// resampled with the seeds held fixed, and McNemar gating too.
		old, err := PairedPrompts(c.va, c.vb, opts.Resamples, KeyedRNG(opts.Seed+uint64(i), "null-fixed-seeds"))
		if err != nil {
			return nil, fmt.Errorf("null: split %d: %v", i, err)
		}
		runs[4]++
		if old.P < Alpha {
			counts[4]++
		}
		runs[5]++
		if old.P < Alpha && (math.IsNaN(c.McNemarP) || c.McNemarP < Alpha) && c.SeedP < Alpha {
			counts[5]++
		}
		res.Verdicts = append(res.Verdicts, c.Verdict)
	}
	for t, name := range tests {
		if runs[t] == 0 {
			continue
		}
		r := NullRate{Test: name, Rejected: counts[t], Splits: runs[t], Rate: float64(counts[t]) / float64(runs[t])}
		r.Lo, r.Hi = Wilson(counts[t], runs[t])
		res.Rates = append(res.Rates, r)
	}
	return res, nil
}

// Wilson is the Wilson score 95% interval of a binomial proportion k/n.
func Wilson(k, n int) (lo, hi float64) {
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	const z = 1.959963984540054
	p, nf := float64(k)/float64(n), float64(n)
	den := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return max(0, mid-half), min(1, mid+half)
}

// Cells lists the (task, model, label) cells with per-prompt data, sorted.
func (pd *PromptData) Cells() [][3]string {
	var out [][3]string
	for k := range pd.cells {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b [3]string) int {
		for i := range a {
			if c := strings.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	return out
}

// Seeds lists a cell's seeds, ascending.
func (pd *PromptData) Seeds(task, model, label string) []int64 {
	var out []int64
	for s := range pd.Get(task, model, label) {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Restrict keeps only the given seeds of every cell.
func (pd *PromptData) Restrict(seeds []int64) *PromptData {
	out := &PromptData{cells: map[[3]string]map[int64]*Outcomes{}}
	for k, m := range pd.cells {
		out.cells[k] = map[int64]*Outcomes{}
		for _, s := range seeds {
			if o, ok := m[s]; ok {
				out.cells[k][s] = o
			}
		}
	}
	return out
}
