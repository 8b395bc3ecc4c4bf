package plots

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

type curve struct {
	steps, mean, lo, hi []float64
	n                   []int
	hasCI               []bool
}

// evalCurve averages an eval metric over the seeds of cf at each step.
func (b *builder) evalCurve(cf *config, metric string) curve {
	by := map[int][]float64{}
	for _, t := range cf.Trials {
		for _, e := range t.Evals {
			if v, ok := e.Metrics[metric]; ok && finite(v) {
				by[e.Step] = append(by[e.Step], v)
			}
		}
	}
	return b.curveOf(by, cf.Label+"|"+cf.paramKey()+"|"+metric)
}

func (b *builder) curveOf(by map[int][]float64, key string) curve {
	var steps []int
	for s := range by {
		steps = append(steps, s)
	}
	sort.Ints(steps)
	var cv curve
	for _, s := range steps {
		xs := by[s]
		lo, hi, ok := interval(xs, b.o.CI, b.o.Resamples, keyedRNG(b.o.Seed, key+"|"+strconv.Itoa(s)))
		cv.steps = append(cv.steps, float64(s))
		cv.mean = append(cv.mean, mean(xs))
		cv.lo, cv.hi, cv.hasCI = append(cv.lo, lo), append(cv.hi, hi), append(cv.hasCI, ok)
		cv.n = append(cv.n, len(xs))
	}
	return cv
}

// addCurve draws a mean line with markers and, where an interval exists,
// a translucent band; it registers the legend entry.
func addCurve(p *plot.Plot, leg *plot.Legend, name string, st style, cv curve, scale float64, markers bool) {
	var band plotter.XYs
	for i := range cv.steps {
		if cv.hasCI[i] {
			band = append(band, plotter.XY{X: cv.steps[i], Y: cv.lo[i] * scale})
		}
	}
	for i := len(cv.steps) - 1; i >= 0; i-- {
		if cv.hasCI[i] {
			band = append(band, plotter.XY{X: cv.steps[i], Y: cv.hi[i] * scale})
		}
	}
	var thumbs []plot.Thumbnailer
	if len(band) >= 4 {
		poly, err := plotter.NewPolygon(band)
		if err == nil {
			poly.Color = withAlpha(st.Colour, 45)
			poly.LineStyle.Width = 0
			p.Add(poly)
			thumbs = append(thumbs, poly)
		}
	}
	pts := make(plotter.XYs, len(cv.steps))
	for i := range pts {
		pts[i] = plotter.XY{X: cv.steps[i], Y: cv.mean[i] * scale}
	}
	ln, err := plotter.NewLine(pts)
	if err != nil {
		return
	}
	ln.LineStyle = draw.LineStyle{Color: st.Colour, Width: st.Width, Dashes: st.Dashes}
	p.Add(ln)
	thumbs = append(thumbs, ln)
	if markers {
		sc, err := plotter.NewScatter(pts)
		if err == nil {
			sc.GlyphStyle = draw.GlyphStyle{Color: st.Colour, Radius: vg.Points(2.2), Shape: st.Glyph}
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
	}
	if leg != nil {
		leg.Add(name, thumbs...)
	}
}

// dynamics is paper Fig. 2 (ablation=false: every algorithm that is not an
// ablation) or Fig. 3 (ablation=true: the target and its ablations).
func (b *builder) dynamics(c cell, metric string, ablation bool) *figure {
	kind, name := "dynamics", slug("dynamics", metric, c.Task, c.Model)
	if ablation {
		kind, name = "ablation", slug("ablation", metric, c.Task, c.Model)
	}
	var labels []string
	for _, l := range b.g.Labels[c] {
		base, _, abl := splitAblation(l)
		if ablation && (l == b.o.Target || (abl && base == b.o.Target)) {
			labels = append(labels, l)
		}
		if !ablation && !abl {
			labels = append(labels, l)
		}
	}
	if ablation {
		if len(labels) < 2 {
			b.note(name, "skipped: no ablations of %s in %s", displayName(b.o.Target), c)
			return nil
		}
	}
	var curves []curve
	var shown []string
	var vals []float64
	var ns []int
	for _, l := range labels {
		cv := b.evalCurve(b.disp[c][l], metric)
		if len(cv.steps) == 0 {
			continue
		}
		curves = append(curves, cv)
		shown = append(shown, l)
		for i := range cv.steps {
			vals = append(vals, cv.mean[i], cv.lo[i], cv.hi[i])
		}
		ns = append(ns, len(b.disp[c][l].Trials))
	}
	if len(curves) == 0 {
		b.note(name, "skipped: no evaluation lines with %q in metrics.jsonl for %s", metric, c)
		return nil
	}
	if ablation && len(curves) < 2 {
		b.note(name, "skipped: only one of %s and its ablations has evaluation lines in %s", displayName(b.o.Target), c)
		return nil
	}
	scale := scaleFor(metric, filterFinite(vals))
	what := "Training dynamics"
	if ablation {
		what = "Ablation of " + displayName(b.o.Target)
	}
	title := fmt.Sprintf("%s: %s vs step — task %s, model %s\nmean over %s; shaded: %s across seeds",
		what, shortMetric(metric), c.Task, c.Model, seedText(ns), describeCI(b.o.CI))
	p := newPlot(title, "training step", axisName(metric))
	leg := newLegend()
	for i, cv := range curves {
		addCurve(p, leg, displayName(shown[i]), b.pal.get(shown[i]), cv, scale, true)
	}
	p.X.Min = 0
	padY(p, 0.04)
	return &figure{
		Figure: Figure{Name: name, Kind: kind, Title: title,
			Caption: fmt.Sprintf("%s on the held-out prompts against training step in %s; lines are the mean over %s, shaded bands the %s across seeds (none where only one seed has the step).",
				capitalize(shortMetric(metric)), c, seedText(ns), describeCI(b.o.CI))},
		p: p, legend: leg,
	}
}

func filterFinite(xs []float64) []float64 {
	var out []float64
	for _, x := range xs {
		if finite(x) {
			out = append(out, x)
		}
	}
	return out
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// padY widens the y range by frac of its span on each side so that error
// bars, markers and bands do not touch the frame.
func padY(p *plot.Plot, frac float64) {
	span := p.Y.Max - p.Y.Min
	if span <= 0 || !finite(span) {
		span = math.Max(1, math.Abs(p.Y.Max))
	}
	p.Y.Min -= frac * span
	p.Y.Max += frac * span
}

// padX is padY for the x axis.
func padX(p *plot.Plot, frac float64) {
	span := p.X.Max - p.X.Min
	if span <= 0 || !finite(span) {
		span = math.Max(1, math.Abs(p.X.Max))
	}
	p.X.Min -= frac * span
	p.X.Max += frac * span
}
