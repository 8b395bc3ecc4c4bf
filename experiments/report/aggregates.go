package report

import (
	"fmt"
	"math"
	"slices"

	"github.com/grao-lab/grao/experiments/aggregate"
)

// AggregateTable is the rliable-style summary of one task × model cell:
// every column's per-kind scores normalised by the base model, pooled
// over seeds × kinds.
type AggregateTable struct {
	Task, Model, Metric string
	// Kinds are the kinds pooled (kinds the base model already solves
	// are left out: their normalised score is undefined); Base their
	// base-model score.
	Kinds   []string
	Base    []float64
	Dropped []string
	Rows    []AggregateRow
	// Improvement holds P(X > Y) for every ordered pair worth reading:
	// each method against each other and against its random-reward arm.
	Improvement []Improvement
	// Taus is the grid of the performance profiles.
	Taus []float64
}

// AggregateRow is one column: its normalised scores [seed][kind] and
// their aggregates with stratified bootstrap intervals.
type AggregateRow struct {
	Label                  string
	Scores                 [][]float64
	IQM, Mean, Median, Gap aggregate.Interval
	// Profile is the fraction of seed × kind scores above each tau, with
	// its interval.
	Profile, ProfileLo, ProfileHi []float64
}

// Improvement is P(X > Y) with its interval.
type Improvement struct {
	X, Y string
	P    aggregate.Interval
}

// Normalised scores: 0 is the base model, 1 a perfect score, −1 the
// worst. Per kind k with base score b_k and maximum M (100 for rates, 1
// for the rubric score), s = (x − b_k)/(M − b_k) above the base and
// (x − b_k)/(b_k − L) below it (L the minimum: 0, or −1 for the judge
// reward): the gain is a share of the room to improve, the loss a share
// of what the base model had. One scale for both keeps a kind the base
// model nearly solves from turning a small loss into a huge negative
// score (rliable's (x − random)/(human − random) is unbounded below).
func normalise(x, b, top, bottom float64) float64 {
	if x >= b {
		return (x - b) / (top - b)
	}
	return (x - b) / (b - bottom)
}

// floor is the lowest value of a metric.
func floor(metric string) float64 {
	if metric == "reward" {
		return -1
	}
	return 0
}

func normaliser(metric string) float64 {
	if metric == "reward" || metric == "score" {
		return 1
	}
	return 100
}

// BuildAggregates computes the aggregate tables of every task × model
// cell with per-prompt data, over the given columns. The base score of a
// kind is the starting model's (each trial's eval.json records it).
func BuildAggregates(pd *PromptData, tasks, models, cols []string, controls map[string]ControlInfo, metric string, boot aggregate.Bootstrap) ([]AggregateTable, []string) {
	var out []AggregateTable
	var notes []string
	if metric == "" {
		metric = "RAS"
	}
	top := normaliser(metric)
	for _, task := range tasks {
		for _, model := range models {
			var kinds []string
			var base []float64
			var present []string
			for _, c := range cols {
				if len(pd.Get(task, model, c)) > 0 {
					present = append(present, c)
				}
			}
			if len(present) == 0 {
				continue
			}
			// Kinds and base scores from the first trial with kinds.
			var ref *Outcomes
			for _, c := range present {
				for _, o := range pd.Get(task, model, c) {
					if len(o.Kinds) > 0 && len(o.StartRewards) == len(o.Rewards) {
						ref = o
						break
					}
				}
				if ref != nil {
					break
				}
			}
			if ref == nil {
				notes = append(notes, fmt.Sprintf("aggregates: %s / %s has no per-kind results with the base model's", task, model))
				continue
			}
			t := AggregateTable{Task: task, Model: model, Metric: metric}
			for _, k := range uniqueInOrder(ref.Kinds) {
				b := kindMean(ref, k, metric, true)
				if !(b < top) {
					t.Dropped = append(t.Dropped, k)
					continue
				}
				kinds, base = append(kinds, k), append(base, b)
			}
			t.Kinds, t.Base = kinds, base
			if len(kinds) == 0 {
				continue
			}
			t.Taus = profileTaus()
			for ci, c := range present {
				seeds := pd.Seeds(task, model, c)
				var scores [][]float64
				for _, s := range seeds {
					o := pd.Get(task, model, c)[s]
					row := make([]float64, len(kinds))
					ok := true
					for j, k := range kinds {
						v := kindMean(o, k, metric, false)
						if math.IsNaN(v) {
							ok = false
							break
						}
						row[j] = normalise(v, base[j], top, floor(metric))
					}
					if ok {
						scores = append(scores, row)
					}
				}
				if len(scores) == 0 {
					continue
				}
				b := boot
				b.Seed = boot.Seed + uint64(ci)
				r := AggregateRow{Label: c, Scores: scores}
				var err error
				for _, st := range []struct {
					dst *aggregate.Interval
					f   func([][]float64) float64
				}{
					{&r.IQM, aggregate.IQM}, {&r.Mean, aggregate.Mean}, {&r.Median, aggregate.Median},
					{&r.Gap, func(x [][]float64) float64 { return aggregate.OptimalityGap(x, 1) }},
				} {
					if *st.dst, err = b.Aggregate(scores, st.f); err != nil {
						break
					}
				}
				if err != nil {
					notes = append(notes, fmt.Sprintf("aggregates: %s / %s / %s: %v", task, model, c, err))
					continue
				}
				r.Profile = aggregate.PerformanceProfile(scores, t.Taus)
				r.ProfileLo, r.ProfileHi = profileBands(scores, t.Taus, b)
				t.Rows = append(t.Rows, r)
			}
			t.Improvement = improvements(t.Rows, controls, boot)
			out = append(out, t)
		}
	}
	return out, notes
}

// profileBands are pointwise bootstrap intervals of the profile (fewer
// resamples than the headline intervals: a band is read by eye).
func profileBands(scores [][]float64, taus []float64, b aggregate.Bootstrap) (lo, hi []float64) {
	b.Resamples = min(b.Resamples, 2000)
	if b.Resamples == 0 {
		b.Resamples = 2000
	}
	for _, tau := range taus {
		iv, err := b.Aggregate(scores, func(x [][]float64) float64 { return aggregate.PerformanceProfile(x, []float64{tau})[0] })
		if err != nil {
			return nil, nil
		}
		lo, hi = append(lo, iv.Lo), append(hi, iv.Hi)
	}
	return lo, hi
}

// profileTaus spans normalised scores from −1 (lost all the base model
// had) to 1 (perfect).
func profileTaus() []float64 {
	var out []float64
	for i := 0; i <= 40; i++ {
		out = append(out, -1+float64(i)*0.05)
	}
	return out
}

// improvements are P(X > Y) for each pair of non-control columns (both
// orders are redundant: P(Y > X) = 1 − P(X > Y), so each pair once, in
// column order) and for each column against its random-reward arm.
func improvements(rows []AggregateRow, controls map[string]ControlInfo, boot aggregate.Bootstrap) []Improvement {
	var out []Improvement
	byLabel := map[string]AggregateRow{}
	for _, r := range rows {
		byLabel[r.Label] = r
	}
	add := func(x, y AggregateRow, k int) {
		b := boot
		b.Seed = boot.Seed + 1000 + uint64(k)
		iv, err := b.ProbImprovementCI(x.Scores, y.Scores)
		if err == nil {
			out = append(out, Improvement{X: x.Label, Y: y.Label, P: iv})
		}
	}
	k := 0
	for i, x := range rows {
		if controls[x.Label].Kind == ControlRandom {
			continue
		}
		for _, y := range rows[i+1:] {
			if controls[y.Label].Kind == ControlRandom {
				continue
			}
			add(x, y, k)
			k++
		}
	}
	for _, x := range rows {
		if r, ok := randomArm(controls, x.Label); ok {
			if y, ok := byLabel[r]; ok {
				add(x, y, k)
				k++
			}
		}
	}
	return out
}

// kindMean is the mean of metric over the prompts of kind k (of the
// starting model when start is set).
func kindMean(o *Outcomes, k, metric string, start bool) float64 {
	src := o
	if start {
		src = &Outcomes{Rewards: o.StartRewards, StartRewards: o.StartRewards, Kinds: o.Kinds, Regimes: o.Regimes}
		if metric == "score" || metric == "NAG" {
			return math.NaN() // the start model's scores are not recorded per prompt
		}
	}
	var sum float64
	n := 0
	for i := range src.Rewards {
		if i < len(src.Kinds) && src.Kinds[i] == k {
			sum += src.outcome(metric, i)
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

func uniqueInOrder(xs []string) []string {
	var out []string
	for _, x := range xs {
		if x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
