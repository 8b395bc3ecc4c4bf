package runner

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/grao-lab/grao/experiments/sweep"
)

// Selection is selection.json: for every algorithm (and main-grid point),
// the [select] points tried on the dev split, their mean metric over the
// selection seeds, and the point chosen for the main trials.
type Selection struct {
	Metric string           `json:"metric"`
	Seeds  []uint64         `json:"seeds"`
	Groups []SelectionGroup `json:"groups"`
}

// SelectionGroup is one algorithm's (and main-grid point's) selection.
type SelectionGroup struct {
	Group  string            `json:"group"` // sweep.GroupKey
	Label  string            `json:"label"`
	Tried  []SelectionPoint  `json:"tried"`
	Chosen map[string]string `json:"chosen"`
}

// SelectionPoint is one [select] point: its values, the trials that ran
// it (one per selection seed) and their mean metric on the dev split.
type SelectionPoint struct {
	Values map[string]string `json:"values"`
	Trials []string          `json:"trials"`
	Score  float64           `json:"score"`
}

// SelectionFile is where RunSweep keeps the choice.
const SelectionFile = "selection.json"

// RunSweep runs a sweep: with [select], first its selection trials (on
// the dev split), then the main trials with each algorithm's chosen
// values; otherwise the main trials alone. results.csv holds the main
// trials only; selection.json records the choice.
func RunSweep(ctx context.Context, sw *sweep.Sweep, opts Options) (Summary, error) {
	opts.passk = sw.PassKSettings()
	unlock, err := lockRun(opts)
	if err != nil {
		return Summary{}, err
	}
	defer unlock()
	opts.locked = true
	if !sw.HasSelection() {
		trials, err := sw.Expand()
		if err != nil {
			return Summary{}, err
		}
		if err := checkOnly(trials, opts.Only); err != nil {
			return Summary{}, err
		}
		return Run(ctx, sw, trials, opts)
	}
	sel, err := sw.SelectionTrials()
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Results: filepath.Join(opts.Out, "results.csv")}
	if err := start(sw, opts, sel); err != nil {
		return sum, err
	}
	// With --trial, a main trial can only be named once selection is
	// recorded; selection trials can be run any time.
	var choice *Selection
	var prior Selection
	if err := readJSON(filepath.Join(opts.Out, SelectionFile), &prior); err == nil {
		choice = &prior
	}
	only := opts.Only
	if len(only) > 0 {
		var main []sweep.Trial
		if choice != nil {
			if main, err = sw.ExpandChosen(choice.chosen()); err != nil {
				return sum, err
			}
		}
		if err := checkOnly(append(slices.Clone(sel), main...), only); err != nil {
			return sum, err
		}
	}
	sum.Total = len(sel)
	if err := execute(ctx, sel, opts, &sum, "select: "); err != nil {
		return sum, err
	}
	fresh, err := choose(opts.Out, sw, sel)
	switch {
	case err == nil:
		if err := writeJSON(filepath.Join(opts.Out, SelectionFile), fresh); err != nil {
			return sum, err
		}
		choice = fresh
	case len(only) > 0 && choice != nil:
		// An array task of a cluster run: another task finishes the
		// selection; the recorded choice stands.
	case len(only) > 0 && onlySelection(sel, only):
		// An array task that ran selection trials only: the choice is
		// made once they have all finished, by whichever run sees that.
		return sum, nil
	default:
		return sum, err
	}
	main, err := sw.ExpandChosen(choice.chosen())
	if err != nil {
		return sum, err
	}
	if err := sweep.WritePlan(filepath.Join(opts.Out, "plan.json"), sw, append(slices.Clone(sel), main...)); err != nil {
		return sum, err
	}
	sum.Total += len(main)
	xerr := execute(ctx, main, opts, &sum, "")
	if err := Collect(opts.Out, main); err != nil {
		return sum, err
	}
	return sum, xerr
}

func (s *Selection) chosen() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, g := range s.Groups {
		out[g.Group] = g.Chosen
	}
	return out
}

// choose reads the selection trials' dev metrics and picks, per group,
// the point with the highest mean (the first in grid order on ties). A
// selection trial that did not finish is an error: a choice among fewer
// points than the sweep promised would be a different experiment.
func choose(dir string, sw *sweep.Sweep, sel []sweep.Trial) (*Selection, error) {
	spec := sw.SelectSettings()
	metric := spec.Metric
	out := &Selection{Metric: metric, Seeds: spec.Seeds}
	byGroup := map[string]*SelectionGroup{}
	var order []string
	for _, tr := range sel {
		if !finished(dir, tr.ID) {
			return nil, fmt.Errorf("selection trial %s did not finish: run again with --resume", tr.ID)
		}
		var ev EvalFile
		if err := readJSON(filepath.Join(dir, "runs", tr.ID, "eval.json"), &ev); err != nil {
			return nil, fmt.Errorf("selection trial %s: eval.json: %w", tr.ID, err)
		}
		v, ok := ev.Metrics[metric]
		if !ok || math.IsNaN(v) {
			return nil, fmt.Errorf("selection trial %s has no metric %q", tr.ID, metric)
		}
		gk := sweep.GroupKey(tr)
		g, ok := byGroup[gk]
		if !ok {
			g = &SelectionGroup{Group: gk, Label: tr.Label}
			byGroup[gk] = g
			order = append(order, gk)
		}
		pk := pointString(tr.Selected)
		i := slices.IndexFunc(g.Tried, func(p SelectionPoint) bool { return pointString(p.Values) == pk })
		if i < 0 {
			g.Tried = append(g.Tried, SelectionPoint{Values: tr.Selected})
			i = len(g.Tried) - 1
		}
		p := &g.Tried[i]
		p.Trials = append(p.Trials, tr.ID)
		p.Score += v
	}
	for _, gk := range order {
		g := byGroup[gk]
		best := -1
		for i := range g.Tried {
			p := &g.Tried[i]
			p.Score /= float64(len(p.Trials))
			if best < 0 || p.Score > g.Tried[best].Score {
				best = i
			}
		}
		g.Chosen = g.Tried[best].Values
		out.Groups = append(out.Groups, *g)
	}
	return out, nil
}

func pointString(v map[string]string) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + v[k] + ";")
	}
	return b.String()
}

// onlySelection reports whether every ID in only is a selection trial.
func onlySelection(sel []sweep.Trial, only []string) bool {
	for _, id := range only {
		if !slices.ContainsFunc(sel, func(t sweep.Trial) bool { return t.ID == id }) {
			return false
		}
	}
	return true
}

// checkOnly makes sure every ID given to --trial is in the plan.
func checkOnly(trials []sweep.Trial, only []string) error {
	for _, id := range only {
		if !slices.ContainsFunc(trials, func(t sweep.Trial) bool { return t.ID == id }) {
			return fmt.Errorf("no trial %q in the plan", id)
		}
	}
	return nil
}
