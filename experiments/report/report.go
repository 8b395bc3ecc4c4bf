package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/experiments/aggregate"
)

// Options control Build. The zero value is not useful; start from
// DefaultOptions.
type Options struct {
	Target         string   // algorithm whose improvement is reported (case-insensitive)
	Baselines      []string // compared algorithms; empty = every other non-ablation algorithm
	Metric         string   // headline and significance metric
	AblationMetric string   // metric of the ablation table; falls back to Metric when absent
	Metrics        []string // metrics shown as table rows; empty = all present
	CI             CIMethod
	Resamples      int // bootstrap resamples per cell
	Test           TestMethod
	Permutations   int    // Monte-Carlo rearrangements when exact enumeration is too large
	Seed           uint64 // seeds every RNG (mixed with each cell's key)
	// KindMetrics are the metrics of the per-kind tables, built from the
	// "metric@kind" rows the runner writes (default RAS and win_tie).
	KindMetrics []string
	// Prompts, when set, are the per-prompt outcomes (ReadPromptData):
	// Compare's comparisons (or the target against each baseline on
	// Metric) are then tested per prompt and over seeds.
	Prompts *PromptData
	// PassK and Compute, when set (ReadPassK, ReadCompute), add the
	// pass@k and compute tables.
	PassK   *PassKData
	Compute *ComputeData
	Compare []CompareSpec
	// Selected are the hyper-parameters chosen on the dev split (shown as
	// a table), one row per algorithm.
	Selected []SelectedRow
}

// SelectedRow is one algorithm's hyper-parameter selection: each value
// tried with its dev score, and the chosen one.
type SelectedRow struct {
	Label  string
	Metric string
	Tried  []string // "lr=0.0003: 0.12"
	Chosen string
}

// DefaultOptions: the registered target algorithm (GRAO), headline on RAS, ablation on NAG (as the
// paper's Table 3), 10 000 bootstrap resamples, t-tests, seed 1.
func DefaultOptions() Options {
	return Options{
		Target: algorithms.DefaultTarget(), Metric: "RAS", AblationMetric: "NAG",
		CI: CIBootstrap, Resamples: 10000, Test: TestT, Permutations: 20000, Seed: 1,
		KindMetrics: []string{"RAS", "win_tie"},
	}
}

// Cell is one task × model × algorithm × metric aggregated over seeds.
type Cell struct {
	Task, Model, Algorithm, Metric string
	Seeds                          []int64   // ascending
	Values                         []float64 // per seed, same order
	Mean, SD                       float64
	Lo, Hi                         float64 // 95% interval; valid when HasCI
	HasCI                          bool    // false for n = 1
}

// N is the number of seeds.
func (c *Cell) N() int { return len(c.Values) }

// HalfWidth is (Hi − Lo)/2, the "±" printed in tables. The bootstrap
// interval need not be symmetric; the CSV output carries Lo and Hi.
func (c *Cell) HalfWidth() float64 { return (c.Hi - c.Lo) / 2 }

// Table is one task's paper-style table: rows model × metric, columns
// algorithms.
type Table struct {
	Task       string
	Algorithms []string
	Rows       []TableRow
}

// TableRow holds one model × metric row; a nil cell is missing data.
type TableRow struct {
	Model, Metric string
	Cells         []*Cell
}

// Headline is the target's mean improvement over one baseline.
type Headline struct {
	Baseline string
	Relative float64 // mean over cells of (A/B − 1), as a fraction; NaN when no cell
	Absolute float64 // mean over cells of A − B, in metric units; NaN when no cell
	Cells    int     // cells in the relative mean
	AbsCells int     // cells in the absolute mean (also those with B ≤ 0)
}

// Comparison is a per-cell significance test of target vs baseline.
type Comparison struct {
	Task, Model, Baseline string
	Target, Base          *Cell
	Diff                  float64 // Mean(target) − Mean(baseline)
	Relative              float64 // A/B − 1; NaN when B ≤ 0
	Paired                bool
	N                     int    // shared seeds when paired, else min(nA, nB)
	Test                  string // e.g. "paired t", "Welch t", "sign-flip (exact)"
	P                     float64
	PNote                 string // why P is NaN, when it is
}

// Ablation is paper Table 3 for one algorithm and task.
type Ablation struct {
	Task, Algorithm, Metric string
	Parts                   []string // removed parts, e.g. "imitation"
	Models                  []string
	Full                    []*Cell   // per model
	Cells                   [][]*Cell // [model][part]
	Delta                   []float64 // per part: mean over models of (full − ablated)/full
	DeltaN                  []int     // models in each Delta
}

// Report is everything Render prints.
type Report struct {
	Source      string
	Opts        Options
	TargetLabel string // as found in the data; "" when absent
	Tables      []Table
	Headline    []Headline
	Comparisons []Comparison
	Ablations   []Ablation
	// KindTables break metrics down by kind (and regime).
	KindTables []KindTable
	// PromptComparisons are the per-prompt and seed-level tests.
	PromptComparisons []PromptComparison
	// Controls maps a column label to the control arm it is (Kind "" for
	// an ordinary column); ControlComparisons test each column against its
	// random-reward control (a Holm family of their own).
	Controls           map[string]ControlInfo
	ControlComparisons []PromptComparison
	// Aggregates are the rliable-style summaries over seeds × kinds.
	Aggregates []AggregateTable
	PassK      []PassKTable
	Compute    []ComputeTable
	ModalN     int // most common seeds-per-cell, for compact cells
	Notes      []string
}

// KindTable is one task × model × metric by kind: rows kinds (regimes
// first), columns algorithms.
type KindTable struct {
	Task, Model, Metric string
	Algorithms          []string
	Kinds               []string
	Cells               [][]*Cell // [kind][algorithm]
}

// Canonical metric order (names the runner writes), then first appearance.
var metricOrder = []string{"RAS", "win_tie", "NAG", "NAG_signed", "reward", "score", "kl", "length", "distinct2", "steps_to_90"}

// group is the rows of one column label in one task × model.
type labelInfo struct {
	label    string
	base     string // algorithm column
	ablation string
}

// Build aggregates res into a report. It fails only on options that name
// something absent (an explicit baseline) or contradict each other.
func Build(res *Results, opts Options) (*Report, error) {
	if opts.Resamples <= 0 {
		opts.Resamples = DefaultOptions().Resamples
	}
	if opts.Permutations <= 0 {
		opts.Permutations = DefaultOptions().Permutations
	}
	rep := &Report{Source: res.File, Opts: opts}

	labels := labelRows(res)
	tasks, models := firstAppearance(res, func(r Row) string { return r.Task }), firstAppearance(res, func(r Row) string { return r.Model })
	allMetrics := orderMetrics(res)
	var metrics []string
	for _, m := range allMetrics {
		if !strings.Contains(m, "@") {
			metrics = append(metrics, m)
		}
	}
	if len(opts.Metrics) > 0 {
		var sel []string
		for _, m := range opts.Metrics {
			name, ok := findFold(allMetrics, m)
			if !ok {
				return nil, fmt.Errorf("metric %q not in %s (have %s)", m, res.File, strings.Join(metrics, ", "))
			}
			sel = append(sel, name)
		}
		metrics = sel
	}

	// Collect values per (task, model, label, metric).
	type ckey struct{ task, model, label, metric string }
	cells := map[ckey]*Cell{}
	infos := map[string]labelInfo{}
	for i, r := range res.Rows {
		li := labels[i]
		infos[li.label] = li
		k := ckey{r.Task, r.Model, li.label, r.Metric}
		c := cells[k]
		if c == nil {
			c = &Cell{Task: r.Task, Model: r.Model, Algorithm: li.label, Metric: r.Metric}
			cells[k] = c
		}
		c.Seeds = append(c.Seeds, r.Seed)
		c.Values = append(c.Values, r.Value)
	}
	nCount := map[int]int{}
	for k, c := range cells {
		sortBySeed(c)
		c.Mean, c.SD = Mean(c.Values), SampleSD(c.Values)
		if c.N() >= 2 {
			c.HasCI = true
			if opts.CI == CIStudentT {
				c.Lo, c.Hi = tCI(c.Values)
			} else {
				rng := KeyedRNG(opts.Seed, "ci\x00"+k.task+"\x00"+k.model+"\x00"+k.label+"\x00"+k.metric)
				c.Lo, c.Hi = bootstrapCI(c.Values, opts.Resamples, rng)
			}
		}
		nCount[c.N()]++
	}
	for n, cnt := range nCount {
		if cnt > nCount[rep.ModalN] || (cnt == nCount[rep.ModalN] && n > rep.ModalN) {
			rep.ModalN = n
		}
	}
	get := func(task, model, label, metric string) *Cell { return cells[ckey{task, model, label, metric}] }

	// Main-table columns: every non-ablation label.
	var cols []string
	for l, li := range infos {
		if li.ablation == "" {
			cols = append(cols, l)
		}
	}
	sortLabels(cols, infos)

	// Which metrics each task × model has, so the loops below stay
	// proportional to the data even for files with many distinct names.
	present := map[[2]string]map[string]bool{}
	for _, r := range res.Rows {
		k := [2]string{r.Task, r.Model}
		if present[k] == nil {
			present[k] = map[string]bool{}
		}
		present[k][r.Metric] = true
	}
	for _, task := range tasks {
		t := Table{Task: task}
		used := map[string]bool{}
		for _, model := range models {
			pm := present[[2]string{task, model}]
			if pm == nil {
				continue
			}
			for _, metric := range metrics {
				if !pm[metric] {
					continue
				}
				row := TableRow{Model: model, Metric: metric, Cells: make([]*Cell, len(cols))}
				any := false
				for j, l := range cols {
					if c := get(task, model, l, metric); c != nil {
						row.Cells[j], any, used[l] = c, true, true
					}
				}
				if any {
					t.Rows = append(t.Rows, row)
				}
			}
		}
		// Drop columns with no data in this task.
		var keep []int
		t.Algorithms, keep = usedColumns(cols, used)
		for i := range t.Rows {
			t.Rows[i].Cells = pickCells(t.Rows[i].Cells, keep)
		}
		if len(t.Rows) > 0 {
			rep.Tables = append(rep.Tables, t)
		}
	}
	for _, t := range rep.Tables {
		for _, r := range t.Rows {
			for j, c := range r.Cells {
				if c == nil {
					rep.note("%s / %s / %s: no %s rows (shown as —)", t.Task, r.Model, displayName(t.Algorithms[j]), r.Metric)
				}
			}
		}
	}

	controls := controlsOf(res)
	rep.Controls = controls
	// Target and baselines.
	target, ok := findFold(cols, opts.Target)
	if !ok {
		rep.note("target %q is not among the algorithms (%s): no headline or tests", opts.Target, strings.Join(cols, ", "))
	}
	var baselines []string
	if len(opts.Baselines) > 0 {
		for _, b := range opts.Baselines {
			name, ok := findFold(cols, b)
			if !ok {
				return nil, fmt.Errorf("baseline %q is not among the algorithms in %s (have %s)", b, res.File, strings.Join(cols, ", "))
			}
			if strings.EqualFold(name, opts.Target) {
				return nil, fmt.Errorf("baseline %q is the target", b)
			}
			baselines = append(baselines, name)
		}
	} else {
		for _, c := range cols {
			if c != target && controls[c].Kind == "" {
				baselines = append(baselines, c)
			}
		}
	}
	metric, mok := findFold(orderMetrics(res), opts.Metric)
	if target != "" && !mok {
		rep.note("metric %q is not in the results: no headline or tests", opts.Metric)
	}
	if target != "" && mok {
		rep.TargetLabel = target
		rep.Opts.Metric = metric
		for _, b := range baselines {
			h := Headline{Baseline: b}
			var rel, abs []float64
			for _, task := range tasks {
				for _, model := range models {
					if !present[[2]string{task, model}][metric] {
						continue
					}
					a, bc := get(task, model, target, metric), get(task, model, b, metric)
					if a == nil && bc == nil {
						continue
					}
					if a == nil || bc == nil {
						miss := target
						if a != nil {
							miss = b
						}
						rep.note("headline vs %s: cell %s / %s excluded, no %s %s", displayName(b), task, model, displayName(miss), metric)
						continue
					}
					abs = append(abs, a.Mean-bc.Mean)
					if bc.Mean > 0 {
						rel = append(rel, a.Mean/bc.Mean-1)
					} else {
						rep.note("headline vs %s: cell %s / %s excluded from the relative mean, baseline mean %s ≤ 0", displayName(b), task, model, fmtG(bc.Mean))
					}
					rep.Comparisons = append(rep.Comparisons, compare(a, bc, opts))
				}
			}
			h.Relative, h.Absolute = meanOrNaN(rel), meanOrNaN(abs)
			h.Cells, h.AbsCells = len(rel), len(abs)
			rep.Headline = append(rep.Headline, h)
		}
	}

	// Comparisons, aggregates and the pass@k and compute tables cover
	// ablation variants too, which are not columns of the main tables.
	all := make([]string, 0, len(infos))
	for l := range infos {
		all = append(all, l)
	}
	sortLabels(all, infos)
	rep.PassK = BuildPassK(opts.PassK, tasks, models, all)
	rep.Compute = BuildCompute(opts.Compute, tasks, models, all)
	rep.buildAblations(tasks, models, infos, get)
	rep.buildKindTables(tasks, models, cols, allMetrics, get)
	if opts.Prompts != nil {
		specs := opts.Compare
		if len(specs) == 0 && target != "" && mok {
			for _, b := range baselines {
				specs = append(specs, CompareSpec{A: target, B: b, Metric: metricForPrompts(metric)})
			}
		}
		rep.PromptComparisons = ComparePrompts(opts.Prompts, tasks, models, all, specs)
		rep.ControlComparisons = ComparePrompts(opts.Prompts, tasks, models, all, controlSpecs(cols, controls, metricForPrompts(metric), specs))
		applyControls(rep.PromptComparisons, rep.ControlComparisons)
		var notes []string
		rep.Aggregates, notes = BuildAggregates(opts.Prompts, tasks, models, all, controls, metricForPrompts(metric),
			aggregate.Bootstrap{Resamples: opts.Resamples, Seed: opts.Seed})
		rep.Notes = append(rep.Notes, notes...)
	}
	return rep, nil
}

// metricForPrompts maps a table metric to its per-prompt form (RAS when
// it has none).
func metricForPrompts(m string) string {
	if slices.Contains(PerPromptMetrics, m) {
		return m
	}
	return "RAS"
}

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func meanOrNaN(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return Mean(xs)
}

// compare runs the significance test of one target cell against one
// baseline cell.
func compare(a, b *Cell, opts Options) Comparison {
	c := Comparison{Task: a.Task, Model: a.Model, Baseline: b.Algorithm, Target: a, Base: b,
		Diff: a.Mean - b.Mean, Relative: math.NaN(), P: math.NaN()}
	if b.Mean > 0 {
		c.Relative = a.Mean/b.Mean - 1
	}
	// Seeds are the same random streams for every algorithm, so the
	// per-seed difference removes the seed's own luck: pair when possible.
	var d []float64
	bySeed := map[int64]float64{}
	for i, s := range b.Seeds {
		bySeed[s] = b.Values[i]
	}
	for i, s := range a.Seeds {
		if v, ok := bySeed[s]; ok {
			d = append(d, a.Values[i]-v)
		}
	}
	rng := KeyedRNG(opts.Seed, "test\x00"+a.Task+"\x00"+a.Model+"\x00"+a.Algorithm+"\x00"+b.Algorithm+"\x00"+a.Metric)
	var ok bool
	switch {
	case len(d) >= 2:
		c.Paired, c.N = true, len(d)
		if opts.Test == TestPermutation {
			var exact bool
			c.P, exact = signFlip(d, opts.Permutations, rng)
			c.Test, ok = "sign-flip"+exactWord(exact), true
		} else {
			c.Test = "paired t"
			c.P, ok = pairedT(d)
			if !ok {
				c.PNote = "per-seed differences are all equal (zero variance)"
			}
		}
	case a.N() >= 2 && b.N() >= 2:
		c.N = min(a.N(), b.N())
		if opts.Test == TestPermutation {
			var exact bool
			c.P, exact = twoSamplePerm(a.Values, b.Values, opts.Permutations, rng)
			c.Test, ok = "permutation"+exactWord(exact), true
		} else {
			c.Test = "Welch t"
			c.P, ok = welchT(a.Values, b.Values)
			if !ok {
				c.PNote = "both algorithms have zero variance over seeds"
			}
		}
	default:
		c.N = min(a.N(), b.N())
		c.PNote = fmt.Sprintf("n=%d vs n=%d: a test needs at least 2 seeds each", a.N(), b.N())
	}
	return c
}

func exactWord(exact bool) string {
	if exact {
		return " (exact)"
	}
	return " (Monte Carlo)"
}
