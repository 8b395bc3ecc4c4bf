package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

type bar struct {
	value, lo, hi float64
	hasCI         bool
	mark          string // drawn above the bar when there is no whisker, e.g. "CI unbounded"
}

type barSeries struct {
	label string // legend name
	st    style
	bars  []*bar // per group; nil = missing
}

// groupedBars draws bars grouped on the x axis, with the groups at integer
// x and the bars shifted in data units inside each group: gonum's error
// bars follow data coordinates, not BarChart's pixel offsets.
func groupedBars(p *plot.Plot, leg *plot.Legend, groups []string, series []barSeries) {
	nb := len(series)
	var marks plotter.XYLabels
	const groupW = 0.8
	bw := groupW / float64(nb)
	for j, s := range series {
		var errs errPoints
		for i, br := range s.bars {
			if br == nil || !finite(br.value) {
				continue
			}
			x0 := float64(i) - groupW/2 + float64(j)*bw + 0.06*bw
			x1 := x0 + 0.88*bw
			poly, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: 0}, {X: x1, Y: 0}, {X: x1, Y: br.value}, {X: x0, Y: br.value}})
			if err != nil {
				continue
			}
			poly.Color = s.st.Colour
			poly.LineStyle = draw.LineStyle{Color: color.Black, Width: vg.Points(0.4)}
			p.Add(poly)
			if br.hasCI {
				errs = append(errs, errPoint{x: (x0 + x1) / 2, y: br.value, lo: br.value - br.lo, hi: br.hi - br.value})
			}
			if br.mark != "" {
				marks.XYs = append(marks.XYs, plotter.XY{X: (x0 + x1) / 2, Y: math.Max(br.value, 0)})
				marks.Labels = append(marks.Labels, br.mark)
			}
		}
		if len(errs) > 0 {
			eb, err := plotter.NewYErrorBars(errs)
			if err == nil {
				eb.LineStyle = draw.LineStyle{Color: color.Black, Width: vg.Points(0.9)}
				eb.CapWidth = vg.Points(min(5, 40/float64(nb*len(groups))+2))
				p.Add(eb)
			}
		}
		sw, _ := plotter.NewPolygon(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 1}})
		sw.Color = s.st.Colour
		sw.LineStyle = draw.LineStyle{Color: color.Black, Width: vg.Points(0.4)}
		leg.Add(s.label, sw)
	}
	if len(marks.Labels) > 0 {
		if l, err := plotter.NewLabels(marks); err == nil {
			for i := range l.TextStyle {
				l.TextStyle[i].Font.Size = font.Length(cellSize - 1)
				l.TextStyle[i].XAlign = draw.XCenter
			}
			l.Offset = vg.Point{Y: vg.Points(2)}
			p.Add(l)
		}
	}
	zero, _ := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 0}, {X: float64(len(groups)) - 0.5, Y: 0}})
	zero.LineStyle = draw.LineStyle{Color: color.Black, Width: vg.Points(0.8)}
	p.Add(zero)
	ticks := make(plot.ConstantTicks, len(groups))
	for i, g := range groups {
		ticks[i] = plot.Tick{Value: float64(i), Label: g}
	}
	p.X.Tick.Marker = ticks
	p.X.Min, p.X.Max = -0.5, float64(len(groups))-0.5
	padY(p, 0.05)
	if p.Y.Min > 0 {
		p.Y.Min = 0
	}
}

type errPoint struct{ x, y, lo, hi float64 }
type errPoints []errPoint

func (e errPoints) Len() int                        { return len(e) }
func (e errPoints) XY(i int) (float64, float64)     { return e[i].x, e[i].y }
func (e errPoints) YError(i int) (float64, float64) { return e[i].lo, e[i].hi }

// finalValues are the seeds' final metric values of a config.
func finalValues(cf *config, metric string) (seeds []int64, vals []float64) {
	for _, t := range cf.Trials {
		if v, ok := t.Final[metric]; ok && finite(v) {
			seeds = append(seeds, t.Seed)
			vals = append(vals, v)
		}
	}
	return seeds, vals
}

// improvement is the relative improvement of the target over each
// baseline, one group of bars per task × model.
func (b *builder) improvement() *figure {
	m, target := b.o.Metric, b.o.Target
	name := slug("improvement", m)
	var groupsX []string
	var baselines []string
	type cellBars map[string]*bar
	var per []cellBars
	paired := true
	any := false
	for _, c := range b.g.Cells {
		tc := b.disp[c][target]
		if tc == nil {
			b.note(name, "%s: no %s trials", c, displayName(target))
			continue
		}
		ts, tv := finalValues(tc, m)
		if len(tv) == 0 {
			b.note(name, "%s: %s has no final %s", c, displayName(target), m)
			continue
		}
		cb := cellBars{}
		for _, l := range b.g.Labels[c] {
			if _, _, abl := splitAblation(l); abl || l == target {
				continue
			}
			bs, bv := finalValues(b.disp[c][l], m)
			if len(bv) == 0 {
				continue
			}
			pr := slices.Equal(ts, bs)
			paired = paired && pr
			r, lo, hi, ok := ratioCI(tv, bv, pr, b.o.Resamples, keyedRNG(b.o.Seed, name+"|"+c.String()+"|"+l))
			if !finite(r) {
				b.note(name, "%s: %s over %s left out: baseline mean %s ≤ 0, the ratio is undefined", c, displayName(target), displayName(l), m)
				continue
			}
			markUnbounded := false
			if b.o.CI == CIStudentT {
				flo, fhi, fok := fiellerCI(tv, bv, pr)
				lo, hi, ok = flo-1, fhi-1, fok
				if !fok && len(tv) > 1 && len(bv) > 1 {
					markUnbounded = true
					b.note(name, "%s: no whisker for %s over %s: the Fieller interval is unbounded (baseline mean too close to 0 for its spread)", c, displayName(target), displayName(l))
				}
			}
			cb[l] = &bar{value: 100 * r, lo: 100 * lo, hi: 100 * hi, hasCI: ok}
			if markUnbounded {
				cb[l].mark = "CI ∞"
			}
			if !contains(baselines, l) {
				baselines = append(baselines, l)
			}
			any = true
		}
		groupsX = append(groupsX, c.String())
		per = append(per, cb)
	}
	if !any {
		b.note(name, "skipped: no task × model has final %s for both %s and a baseline (results.csv or eval.json)", m, displayName(target))
		return nil
	}
	sortLabels(baselines)
	var series []barSeries
	for _, l := range baselines {
		s := barSeries{label: "vs " + displayName(l), st: b.pal.get(l)}
		for _, cb := range per {
			s.bars = append(s.bars, cb[l])
		}
		series = append(series, s)
	}
	how := "paired by seed"
	if !paired {
		how = "paired by seed where seeds match, else unpaired"
	}
	ciName, ciLong := "95% bootstrap over seeds", fmt.Sprintf("95%% percentile-bootstrap intervals with %d resamples of seeds", b.o.Resamples)
	if b.o.CI == CIStudentT {
		ciName, ciLong = "95% Fieller t-interval", "95% Fieller intervals for a ratio of means (Student's t across seeds)"
	}
	title := fmt.Sprintf("Relative improvement of %s over each baseline in %s\nbar: mean over seeds of %s ÷ mean of baseline − 1; whisker: %s (%s)",
		displayName(target), m, displayName(target), ciName, how)
	p := newPlotNoVGrid(title, "task / model", fmt.Sprintf("relative %s improvement of %s (%%)", m, displayName(target)))
	leg := newLegend()
	groupedBars(p, leg, groupsX, series)
	return &figure{Figure: Figure{Name: name, Kind: "improvement", Title: title,
		Caption: fmt.Sprintf("Relative improvement of %s over each baseline in final %s per task and model: mean(%s)/mean(baseline) − 1 over seeds (as in `bench report`); whiskers are %s (%s); the line marks no improvement.",
			displayName(target), m, displayName(target), ciLong, how)},
		p: p, legend: leg}
}

func newPlotNoVGrid(title, x, y string) *plot.Plot { return newPlotGrid(title, x, y, false, true) }

// ablationBars is paper Table 3 as a chart: final metric of the target and
// its ablations per task × model.
func (b *builder) ablationBars() *figure {
	target := b.o.Target
	has := func(m string) bool {
		for _, c := range b.g.Cells {
			for _, l := range b.g.Labels[c] {
				if base, _, abl := splitAblation(l); abl && base == target {
					if _, v := finalValues(b.disp[c][l], m); len(v) > 0 {
						return true
					}
				}
			}
		}
		return false
	}
	m := b.o.AblationMetric
	if !has(m) {
		if m == b.o.Metric || !has(b.o.Metric) {
			b.note("ablation_final", "skipped: no final %s of %s ablations", m, displayName(target))
			return nil
		}
		b.note("ablation_final", "no final %s for the ablations; using %s", m, b.o.Metric)
		m = b.o.Metric
	}
	name := slug("ablation_final", m)
	var labels, groupsX []string
	for _, c := range b.g.Cells {
		found := false
		for _, l := range b.g.Labels[c] {
			if base, _, abl := splitAblation(l); l == target || (abl && base == target) {
				found = true
				if !contains(labels, l) {
					labels = append(labels, l)
				}
			}
		}
		if found {
			groupsX = append(groupsX, c.String())
		}
	}
	sortLabels(labels)
	var all []float64
	raw := map[string][][]float64{}
	for _, l := range labels {
		for _, gx := range groupsX {
			var vals []float64
			for _, c := range b.g.Cells {
				if c.String() == gx && b.disp[c][l] != nil {
					_, vals = finalValues(b.disp[c][l], m)
				}
			}
			raw[l] = append(raw[l], vals)
			all = append(all, vals...)
		}
	}
	scale := scaleFor(m, all)
	var series []barSeries
	var ns []int
	for _, l := range labels {
		s := barSeries{label: displayName(l), st: b.pal.get(l)}
		for i, vals := range raw[l] {
			if len(vals) == 0 {
				s.bars = append(s.bars, nil)
				continue
			}
			lo, hi, ok := interval(vals, b.o.CI, b.o.Resamples, keyedRNG(b.o.Seed, name+"|"+l+"|"+groupsX[i]))
			s.bars = append(s.bars, &bar{value: mean(vals) * scale, lo: lo * scale, hi: hi * scale, hasCI: ok})
			ns = append(ns, len(vals))
		}
		series = append(series, s)
	}
	title := fmt.Sprintf("Ablation of %s: final %s per task and model\nbar: mean over %s; whisker: %s across seeds",
		displayName(target), m, seedText(ns), describeCI(b.o.CI))
	p := newPlotNoVGrid(title, "task / model", axisName(m))
	leg := newLegend()
	groupedBars(p, leg, groupsX, series)
	return &figure{Figure: Figure{Name: name, Kind: "ablation", Title: title,
		Caption: fmt.Sprintf("Final %s of %s and its ablations (each without one loss term) per task and model; bars are means over %s, whiskers %s across seeds.",
			m, displayName(target), seedText(ns), describeCI(b.o.CI))},
		p: p, legend: leg}
}
