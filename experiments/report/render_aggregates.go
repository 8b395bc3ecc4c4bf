package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/grao-lab/grao/experiments/aggregate"
)

// aggregateGrids render the rliable-style aggregates.
func (r *Report) aggregateGrids() []grid {
	var gs []grid
	for _, t := range r.Aggregates {
		var base []string
		for i, k := range t.Kinds {
			base = append(base, fmt.Sprintf("%s %s", k, fmtF(t.Base[i], 2)))
		}
		dropped := ""
		if len(t.Dropped) > 0 {
			dropped = fmt.Sprintf(" Left out (the base model already scores the maximum): %s.", strings.Join(t.Dropped, ", "))
		}
		g := grid{
			title: fmt.Sprintf("Aggregates over seeds × kinds: %s on %s / %s", t.Metric, t.Task, t.Model),
			caption: fmt.Sprintf("Base-normalised scores per kind: s = (x − base)/(%s − base) above the base model, (x − base)/(base − %s) below it "+
				"(0: the base model, 1: perfect, −1: nothing left of what the base model had; base %s: %s), "+
				"pooled over seeds × kinds. IQM: mean of the middle 50%%; optimality gap: mean shortfall below 1. "+
				"[95%% CI]: percentile intervals over %d stratified bootstrap resamples (seeds resampled within each kind), seed %d.%s",
				fmtG(normaliser(t.Metric)), fmtG(floor(t.Metric)), t.Metric, strings.Join(base, ", "), r.Opts.Resamples, r.Opts.Seed, dropped),
			header: []string{"algorithm", "runs (seeds × kinds)", "IQM [95% CI]", "mean [95% CI]", "median [95% CI]", "optimality gap [95% CI]"},
			right:  []bool{false, true, true, true, true, true},
		}
		runs := map[string]int{}
		for _, row := range t.Rows {
			runs[row.Label] = len(row.Scores)
			iv := func(x aggregate.Interval) string {
				if len(row.Scores) < 2 { // resampling one seed per kind changes nothing
					return fmtF(x.Point, 3) + " (one seed)"
				}
				return fmtInterval(x.Point, x.Lo, x.Hi)
			}
			g.rows = append(g.rows, []string{displayName(row.Label), fmt.Sprintf("%d × %d", len(row.Scores), len(t.Kinds)),
				iv(row.IQM), iv(row.Mean), iv(row.Median), iv(row.Gap)})
		}
		gs = append(gs, g)
		if len(t.Improvement) == 0 {
			continue
		}
		p := grid{
			title: fmt.Sprintf("Probability of improvement: %s on %s / %s", t.Metric, t.Task, t.Model),
			caption: "P(X > Y): for each kind, the probability that a random seed of X scores above a random seed of Y (ties count ½), averaged over kinds; " +
				"[95% CI] from stratified bootstrap resamples of both. An interval that excludes 0.5 says which is likely better on a new seed; " +
				"this is not a test of the pre-registered list (no Holm correction).",
			header: []string{"X", "Y", "P(X > Y) [95% CI]", "reading"},
			right:  []bool{false, false, true, false},
		}
		for _, im := range t.Improvement {
			read := "no clear order"
			switch {
			case runs[im.X] < 2 || runs[im.Y] < 2:
				p.rows = append(p.rows, []string{displayName(im.X), displayName(im.Y), fmtF(im.P.Point, 3), "one seed: no interval, no reading"})
				continue
			case im.P.Lo > 0.5:
				read = displayName(im.X) + " likely better"
			case im.P.Hi < 0.5:
				read = displayName(im.Y) + " likely better"
			}
			p.rows = append(p.rows, []string{displayName(im.X), displayName(im.Y), fmtInterval(im.P.Point, im.P.Lo, im.P.Hi), read})
		}
		gs = append(gs, p)
	}
	return gs
}

func fmtInterval(p, lo, hi float64) string {
	return fmt.Sprintf("%s [%s, %s]", fmtF(p, 3), fmtF(lo, 3), fmtF(hi, 3))
}

// passKGrids render the pass@k tables.
func (r *Report) passKGrids() []grid {
	var gs []grid
	for _, t := range r.PassK {
		g := grid{
			title: fmt.Sprintf("pass@k on %s / %s (%s)", t.Task, t.Model, t.Group),
			caption: fmt.Sprintf("Unbiased pass@k (Chen et al. 2021), in %%: the chance that at least one of k answers sampled at temperature %s is correct "+
				"(judged at least as good as the reference), from %d samples per prompt; mean over seeds ± 95%% t-interval. "+
				"A method that only sharpens what the base model already samples gains at k = 1 and loses its lead as k grows.",
				fmtG(t.Temperature), t.Ks[len(t.Ks)-1]),
			header: []string{"algorithm", "seeds"},
			right:  []bool{false, true},
		}
		for _, k := range t.Ks {
			g.header = append(g.header, fmt.Sprintf("pass@%d", k))
			g.right = append(g.right, true)
		}
		for i, l := range t.Labels {
			row := []string{displayName(l), strconv.Itoa(t.Seeds[i])}
			for j := range t.Ks {
				cell := fmtF(t.Mean[i][j], 1)
				if !math.IsNaN(t.Lo[i][j]) {
					cell += " ± " + fmtF((t.Hi[i][j]-t.Lo[i][j])/2, 1)
				}
				row = append(row, cell)
			}
			g.rows = append(g.rows, row)
		}
		gs = append(gs, g)
	}
	return gs
}

// computeGrids render the compute tables.
func (r *Report) computeGrids() []grid {
	var gs []grid
	for _, t := range r.Compute {
		derived, workers := false, 0
		for _, row := range t.Rows {
			derived = derived || row.Derived
			workers = max(workers, row.Workers)
		}
		caption := "Mean per trial over seeds. Updates: optimiser steps (steps × epochs); samples and generated tokens: completions drawn for training; " +
			"scored tokens: completion tokens the policy scored with gradients (samples, references and pairs, per epoch); " +
			"Δ reward: final − initial eval reward; per 1k gen. tokens: Δ reward per 1000 generated tokens (— for methods that sample nothing). " +
			"Wall time includes evaluation."
		if workers > 1 {
			caption += fmt.Sprintf(" Peak RSS is the process's, sampled while the trial ran beside up to %d others: shared by them.", workers-1)
		}
		if derived {
			caption += " *: trials from before the counters were logged: samples and tokens derived from the logged per-step means, scored tokens not recorded."
		}
		caption += " Peak RSS is sampled every 100 ms while the trial runs (— for trials that recorded only the process's high-water mark since the run began, which carries earlier trials' peaks)."
		g := grid{
			title:   fmt.Sprintf("Compute on %s / %s", t.Task, t.Model),
			caption: caption,
			header:  []string{"algorithm", "seeds", "updates", "samples", "generated tokens", "scored tokens", "wall time (s)", "peak RSS (MiB)", "Δ reward", "Δ reward per 1k gen. tokens"},
			right:   []bool{false, true, true, true, true, true, true, true, true, true},
		}
		for _, row := range t.Rows {
			name := displayName(row.Label)
			if row.Derived {
				name += "*"
			}
			g.rows = append(g.rows, []string{name, strconv.Itoa(row.Seeds), fmtF(row.Updates, 0), fmtF(row.Samples, 0), fmtF(row.Generated, 0),
				fmtF(row.Scored, 0), fmtF(row.Seconds, 0), fmtF(row.PeakRSSMiB, 0), fmtSigned(row.RewardGain, 3), fmtF(row.GainPer1k, 4)})
		}
		gs = append(gs, g)
	}
	return gs
}
