package plots

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/grao-lab/grao/experiments/report"
)

// statFigures are the figures of the report's aggregates and pass@k: the
// performance profiles, IQM and optimality-gap intervals over seeds ×
// kinds, and pass@k curves. They need the trials' per-prompt files.
func (b *builder) statFigures() []*figure {
	dir := b.sd.Dir
	res, err := report.ReadFile(filepath.Join(dir, "results.csv"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		b.note("aggregates", "%v", err)
		return nil
	}
	pd, _, err := report.ReadPromptData(dir, res)
	if err != nil {
		b.note("aggregates", "%v", err)
		return nil
	}
	ro := report.DefaultOptions()
	ro.Target, ro.Metric, ro.Prompts, ro.Seed = b.o.Target, b.o.Metric, pd, b.o.Seed
	if ro.PassK, err = report.ReadPassK(dir, res); err != nil {
		b.note("passk", "%v", err)
	}
	rep, err := report.Build(res, ro)
	if err != nil {
		b.note("aggregates", "%v", err)
		return nil
	}
	var figs []*figure
	for _, t := range rep.Aggregates {
		figs = append(figs, b.aggregateFigures(t, ro)...)
	}
	for _, t := range rep.PassK {
		if f := b.passKFigure(t); f != nil {
			figs = append(figs, f)
		}
	}
	return figs
}

func (b *builder) aggregateFigures(t report.AggregateTable, ro report.Options) []*figure {
	where := fmt.Sprintf("task %s, model %s", t.Task, t.Model)
	var series []ProfileSeries
	var iqm, gap []IntervalRow
	for _, r := range t.Rows {
		series = append(series, ProfileSeries{Label: r.Label, Taus: t.Taus, Fraction: r.Profile, Lo: r.ProfileLo, Hi: r.ProfileHi})
		iqm = append(iqm, IntervalRow{Label: r.Label, Point: r.IQM.Point, Lo: r.IQM.Lo, Hi: r.IQM.Hi})
		gap = append(gap, IntervalRow{Label: r.Label, Point: r.Gap.Point, Lo: r.Gap.Lo, Hi: r.Gap.Hi})
	}
	norm := "base-normalised per kind (0: the base model, 1: perfect, −1: nothing left of what the base model had)"
	var out []*figure
	leg := newLegend()
	if p, err := performanceProfiles(fmt.Sprintf("Performance profiles of %s\n%s — seeds × kinds", t.Metric, where), series, leg); err != nil {
		b.note("profiles", "%s: %v", where, err)
	} else {
		out = append(out, &figure{Figure: Figure{Name: slug("profiles", t.Task, t.Model), Kind: "aggregate", Title: p.Title.Text,
			Caption: fmt.Sprintf("Fraction of seed × kind %s scores, %s, above each threshold τ; shaded: pointwise 95%% stratified-bootstrap intervals (seeds resampled within each kind). A curve above another at every τ dominates it.", t.Metric, norm)},
			p: p, legend: leg})
	}
	h := max(2*vg.Inch, vg.Inch+vg.Length(len(t.Rows))*0.35*vg.Inch)
	if p, err := IntervalEstimates(fmt.Sprintf("IQM of normalised %s\n%s", t.Metric, where), "interquartile mean", iqm); err != nil {
		b.note("iqm", "%s: %v", where, err)
	} else {
		out = append(out, &figure{Figure: Figure{Name: slug("iqm", t.Task, t.Model), Kind: "aggregate", Title: p.Title.Text,
			Caption: fmt.Sprintf("Interquartile mean of the seed × kind %s scores, %s: bar 95%% stratified-bootstrap interval (%d resamples), tick the estimate.", t.Metric, norm, ro.Resamples)},
			p: p, w: defaultW, h: h})
	}
	if p, err := IntervalEstimates(fmt.Sprintf("Optimality gap of normalised %s\n%s", t.Metric, where), "optimality gap (lower is better)", gap); err != nil {
		b.note("gap", "%s: %v", where, err)
	} else {
		out = append(out, &figure{Figure: Figure{Name: slug("gap", t.Task, t.Model), Kind: "aggregate", Title: p.Title.Text,
			Caption: fmt.Sprintf("Optimality gap, the mean shortfall of the seed × kind %s scores below 1 (perfect), %s: bar 95%% stratified-bootstrap interval, tick the estimate.", t.Metric, norm)},
			p: p, w: defaultW, h: h})
	}
	return out
}

// passKFigure draws pass@k against k (log scale) for every column.
func (b *builder) passKFigure(t report.PassKTable) *figure {
	title := fmt.Sprintf("pass@k — task %s, model %s, %s prompts", t.Task, t.Model, t.Group)
	p := newPlot(title, "k (answers sampled per prompt)", "pass@k (%)")
	p.X.Scale = plot.LogScale{}
	var ticks []plot.Tick
	for _, k := range t.Ks {
		ticks = append(ticks, plot.Tick{Value: float64(k), Label: fmt.Sprint(k)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	leg := newLegend()
	var labels []string
	for _, l := range t.Labels {
		labels = append(labels, canonicalLabel(l))
	}
	pal := newPalette(slices.Clone(labels), b.o.Target) // newPalette sorts its argument
	for i, l := range t.Labels {
		cv := curve{mean: t.Mean[i], lo: t.Lo[i], hi: t.Hi[i], hasCI: make([]bool, len(t.Ks))}
		for j, k := range t.Ks {
			cv.steps = append(cv.steps, float64(k))
			cv.hasCI[j] = !math.IsNaN(t.Lo[i][j])
		}
		addCurve(p, leg, shownLabel(l), pal.get(labels[i]), cv, 1, true)
	}
	padY(p, 0.04)
	return &figure{Figure: Figure{Name: slug("passk", t.Task, t.Model, t.Group), Kind: "passk", Title: title,
		Caption: fmt.Sprintf("Unbiased pass@k (Chen et al. 2021) of each final policy on the %s eval prompts of %s / %s: the chance that at least one of k answers sampled at temperature %g is correct (judged at least as good as the reference); lines: mean over seeds, shaded: 95%% t-interval across seeds.",
			t.Group, t.Task, t.Model, t.Temperature)},
		p: p, legend: leg}
}
