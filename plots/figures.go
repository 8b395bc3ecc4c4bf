package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// builder holds what every figure needs.
type builder struct {
	sd    *sweepData
	g     *groups
	o     Options
	pal   *palette
	disp  map[cell]map[string]*config // the configuration shown per label
	notes []Note
}

func (b *builder) note(fig, format string, args ...any) {
	b.notes = append(b.notes, Note{Figure: fig, Reason: fmt.Sprintf(format, args...)})
}

// build makes every figure whose data exist, in a fixed order.
func build(sd *sweepData, o Options) ([]*figure, []Note) {
	g := group(sd)
	b := &builder{sd: sd, g: g, o: o, disp: map[cell]map[string]*config{}}
	var all []string
	seen := map[string]bool{}
	for _, c := range g.Cells {
		b.disp[c] = map[string]*config{}
		for _, l := range g.Labels[c] {
			if !seen[l] {
				seen[l] = true
				all = append(all, l)
			}
			cf, note := display(g.Confs[c][l])
			b.disp[c][l] = cf
			if note != "" {
				b.note("display", "%s", note)
			}
		}
	}
	b.pal = newPalette(all, o.Target)
	if len(g.Cells) == 0 {
		b.note("all", "no trials found in %s", sd.Dir)
		return nil, b.notes
	}
	var figs []*figure
	add := func(f *figure) {
		if f != nil {
			figs = append(figs, f)
		}
	}
	for _, c := range g.Cells {
		add(b.dynamics(c, "reward", false))
		add(b.dynamics(c, "RAS", false))
	}
	add(b.improvement())
	for _, c := range g.Cells {
		add(b.lossAnatomy(c))
	}
	for _, c := range g.Cells {
		add(b.dynamics(c, "reward", true))
	}
	add(b.ablationBars())
	for _, c := range g.Cells {
		add(b.sensitivity(c))
	}
	for _, c := range g.Cells {
		add(b.rewardShares(c))
		add(b.scoreBoxes(c))
	}
	for _, f := range b.statFigures() {
		add(f)
	}
	return figs, b.notes
}

// --- metric naming and units ---

// fractionMetrics are shares of prompts; they are shown in percent.
var fractionMetrics = map[string]bool{"RAS": true, "win_tie": true, "NAG": true, "NAG_signed": true, "distinct2": true}

// metricNames are axis labels: short enough for a vertical axis of a
// 3.6-inch figure; the captions say the rest.
var metricNames = map[string]string{
	"reward":      "judge reward vs reference (−1…+1)",
	"RAS":         "RAS: win rate vs reference (%)",
	"win_tie":     "win + tie rate (%)",
	"NAG":         "NAG: prompts improved (%)",
	"NAG_signed":  "signed NAG (% of prompts)",
	"score":       "rubric score (0–1)",
	"kl":          "KL to start (nats / sequence)",
	"length":      "completion length (bytes)",
	"distinct2":   "distinct-2 (% of bigrams)",
	"steps_to_90": "steps to 90% of final reward",
}

// shortMetric is the metric's name in titles.
func shortMetric(m string) string {
	switch m {
	case "reward":
		return "eval reward"
	case "win_tie":
		return "win+tie rate"
	case "NAG_signed":
		return "signed NAG"
	}
	return m
}

func axisName(m string) string {
	if s, ok := metricNames[m]; ok {
		return s
	}
	return m
}

// scaleFor returns 100 for fraction metrics stored as fractions, so they
// read in percent, and 1 otherwise (including a hand-written results.csv
// already in percent, as in the paper's tables).
func scaleFor(m string, vals []float64) float64 {
	if !fractionMetrics[m] {
		return 1
	}
	for _, v := range vals {
		if math.Abs(v) > 1 {
			return 1
		}
	}
	return 100
}

func slug(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('_')
		}
		for _, r := range strings.ToLower(p) {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
				b.WriteRune(r)
			default:
				b.WriteByte('-')
			}
		}
	}
	return b.String()
}

func seedText(ns []int) string {
	lo, hi := math.MaxInt, 0
	for _, n := range ns {
		lo, hi = min(lo, n), max(hi, n)
	}
	switch {
	case len(ns) == 0:
		return "no seeds"
	case lo == hi && lo == 1:
		return "1 seed"
	case lo == hi:
		return fmt.Sprintf("%d seeds", lo)
	}
	return fmt.Sprintf("%d–%d seeds", lo, hi)
}

// --- curves ---

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

// --- grouped bars (improvement, ablation) ---

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

// --- loss anatomy ---

// componentKeys maps the logged component names to the canonical ones.
var componentKeys = map[string]string{"exploration": "exploration", "imitation": "imitation", "regulariser": "regularizer", "regularizer": "regularizer"}

// lossAnatomy is paper Figs. 4–5: GRAO's total loss and its three terms.
func (b *builder) lossAnatomy(c cell) *figure {
	name := slug("loss", b.o.Target, c.Task, c.Model)
	cf := b.disp[c][b.o.Target]
	if cf == nil {
		b.note(name, "skipped: no %s trials in %s", displayName(b.o.Target), c)
		return nil
	}
	total := map[int][]float64{}
	comps := map[string]map[int][]float64{}
	for _, t := range cf.Trials {
		for _, tp := range t.Train {
			if finite(tp.Loss) {
				total[tp.Step] = append(total[tp.Step], tp.Loss)
			}
			for k, v := range tp.Components {
				ck, ok := componentKeys[k]
				if !ok || !finite(v) {
					continue
				}
				if comps[ck] == nil {
					comps[ck] = map[int][]float64{}
				}
				comps[ck][tp.Step] = append(comps[ck][tp.Step], v)
			}
		}
	}
	if len(total) == 0 {
		b.note(name, "skipped: no training lines in metrics.jsonl for %s in %s", displayName(b.o.Target), c)
		return nil
	}
	if len(comps) == 0 {
		b.note(name, "skipped: the training lines of %s in %s have no exploration/imitation/regulariser components", displayName(b.o.Target), c)
		return nil
	}
	tc := b.curveOf(total, name+"|total")
	title := fmt.Sprintf("Loss anatomy of %s — task %s, model %s\nmean over %s; shaded: %s of the total",
		displayName(b.o.Target), c.Task, c.Model, seedText([]int{len(cf.Trials)}), describeCI(b.o.CI))
	p := newPlot(title, "training step", "loss (−J; terms include β, λ)")
	leg := newLegend()
	zero, _ := plotter.NewLine(plotter.XYs{{X: tc.steps[0], Y: 0}, {X: tc.steps[len(tc.steps)-1], Y: 0}})
	zero.LineStyle = draw.LineStyle{Color: color.Gray{Y: 120}, Width: vg.Points(0.6)}
	p.Add(zero)
	addCurve(p, leg, "total loss", style{Colour: componentColours["total"], Width: vg.Points(2)}, tc, 1, false)
	dashes := map[string][]vg.Length{"exploration": nil, "imitation": {vg.Points(5), vg.Points(2)}, "regularizer": {vg.Points(1.5), vg.Points(1.5)}}
	for _, k := range ablationOrder {
		by, ok := comps[k]
		if !ok {
			continue
		}
		cv := b.curveOf(by, name+"|"+k)
		for i := range cv.hasCI {
			cv.hasCI[i] = false // bands only on the total, to keep the terms readable
		}
		addCurve(p, leg, k+" term", style{Colour: componentColours[k], Width: vg.Points(1.4), Dashes: dashes[k]}, cv, 1, false)
	}
	padY(p, 0.04)
	return &figure{Figure: Figure{Name: name, Kind: "loss", Title: title,
		Caption: fmt.Sprintf("%s training loss (total, with its %s across seeds) and its exploration, imitation and regulariser terms in %s, averaged over %s; the terms include their coefficients, sum to the total and can be negative.",
			displayName(b.o.Target), describeCI(b.o.CI), c, seedText([]int{len(cf.Trials)}))},
		p: p, legend: leg}
}

// --- sensitivity heat map ---

// sensKeys finds the two hyper-parameters of the grid: β and λ when both
// vary, else any two that vary.
func sensKeys(cfs []*config) (x, y string, ok bool) {
	vals := map[string]map[string]bool{}
	for _, c := range cfs {
		for k, v := range c.Params {
			if vals[k] == nil {
				vals[k] = map[string]bool{}
			}
			vals[k][v] = true
		}
	}
	var varying []string
	for k, vs := range vals {
		if len(vs) > 1 {
			varying = append(varying, k)
		}
	}
	sort.Strings(varying)
	for _, k := range varying {
		switch shortKey(k) {
		case "beta":
			x = k
		case "lambda":
			y = k
		}
	}
	if x != "" && y != "" {
		return x, y, true
	}
	if len(varying) == 2 {
		return varying[0], varying[1], true
	}
	return "", "", false
}

type heatGrid struct {
	z    [][]float64 // [col][row]
	n    [][]int
	cols int
	rows int
}

func (g *heatGrid) Dims() (int, int)   { return g.cols, g.rows }
func (g *heatGrid) Z(c, r int) float64 { return g.z[c][r] }
func (g *heatGrid) X(c int) float64    { return float64(c) }
func (g *heatGrid) Y(r int) float64    { return float64(r) }

func (b *builder) sensitivity(c cell) *figure {
	m := b.o.Metric
	name := slug("sensitivity", m, c.Task, c.Model)
	cfs := b.g.Confs[c][b.o.Target]
	if len(cfs) < 2 {
		b.note(name, "skipped: the sweep does not vary %s's hyper-parameters in %s", displayName(b.o.Target), c)
		return nil
	}
	kx, ky, ok := sensKeys(cfs)
	if !ok {
		b.note(name, "skipped: need two varying hyper-parameters of %s in %s (β and λ)", displayName(b.o.Target), c)
		return nil
	}
	var xs, ys []string
	for _, cf := range cfs {
		if v, ok := cf.Params[kx]; ok && !contains(xs, v) {
			xs = append(xs, v)
		}
		if v, ok := cf.Params[ky]; ok && !contains(ys, v) {
			ys = append(ys, v)
		}
	}
	sortValues(xs)
	sortValues(ys)
	g := &heatGrid{cols: len(xs), rows: len(ys)}
	var all []float64
	raw := make([][][]float64, len(xs))
	for i := range xs {
		raw[i] = make([][]float64, len(ys))
	}
	for _, cf := range cfs {
		i, j := indexOf(xs, cf.Params[kx]), indexOf(ys, cf.Params[ky])
		if i < 0 || j < 0 {
			continue
		}
		_, v := finalValues(cf, m)
		raw[i][j] = append(raw[i][j], v...)
		all = append(all, v...)
	}
	if len(all) == 0 {
		b.note(name, "skipped: no final %s for the %s grid in %s", m, displayName(b.o.Target), c)
		return nil
	}
	scale := scaleFor(m, all)
	lo, hi := math.Inf(1), math.Inf(-1)
	var ns []int
	for i := range xs {
		g.z = append(g.z, make([]float64, len(ys)))
		g.n = append(g.n, make([]int, len(ys)))
		for j := range ys {
			if len(raw[i][j]) == 0 {
				g.z[i][j] = math.NaN()
				continue
			}
			v := mean(raw[i][j]) * scale
			g.z[i][j], g.n[i][j] = v, len(raw[i][j])
			lo, hi = math.Min(lo, v), math.Max(hi, v)
			ns = append(ns, len(raw[i][j]))
		}
	}
	if hi-lo < 1e-12 {
		lo, hi = lo-0.5, hi+0.5
	}
	cm, err := moreland.NewLuminance([]color.Color{hex("#440154"), hex("#3B528B"), hex("#21908C"), hex("#5DC963"), hex("#FDE725")})
	if err != nil {
		cm = moreland.Kindlmann()
	}
	cm.SetMin(lo)
	cm.SetMax(hi)
	hm := plotter.NewHeatMap(g, cm.Palette(255))
	hm.Min, hm.Max = lo, hi
	hm.NaN = color.Gray{Y: 230}
	title := fmt.Sprintf("Sensitivity of %s to %s and %s — task %s, model %s\ncell: final %s, mean over %s",
		displayName(b.o.Target), greek(kx), greek(ky), c.Task, c.Model, m, seedText(ns))
	p := newPlotGrid(title, greek(kx)+" ("+kx+")", greek(ky)+" ("+ky+")", false, false)
	p.Add(hm)
	var lxy plotter.XYLabels
	var styles []text.Style
	for i := range xs {
		for j := range ys {
			z := g.z[i][j]
			lbl := "n/a"
			tc := color.Color(color.Black)
			if finite(z) {
				lbl = strconv.FormatFloat(z, 'f', decimalsFor(lo, hi), 64)
				col, err := cm.At(z)
				if err == nil && luminance(col) < 0.45 {
					tc = color.White
				}
			}
			lxy.XYs = append(lxy.XYs, plotter.XY{X: float64(i), Y: float64(j)})
			lxy.Labels = append(lxy.Labels, lbl)
			st := p.X.Tick.Label
			st.Font.Size = font.Length(cellSize)
			st.Color = tc
			st.XAlign, st.YAlign = draw.XCenter, draw.YCenter
			styles = append(styles, st)
		}
	}
	labels, err := plotter.NewLabels(lxy)
	if err == nil {
		labels.TextStyle = styles
		p.Add(labels)
	}
	p.X.Tick.Marker = indexTicks(xs)
	p.Y.Tick.Marker = indexTicks(ys)
	p.X.Min, p.X.Max = -0.5, float64(len(xs))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(ys))-0.5

	side := plot.New()
	cb := &plotter.ColorBar{ColorMap: cm, Vertical: true}
	side.Add(cb)
	side.HideX()
	side.Y.Padding = 0
	side.Y.Label.Text = axisName(m)
	side.Y.Label.TextStyle.Font.Size = font.Length(labelSize)
	side.Y.Tick.Label.Font.Size = font.Length(tickSize)
	return &figure{Figure: Figure{Name: name, Kind: "sensitivity", Title: title,
		Caption: fmt.Sprintf("Final %s of %s over the %s × %s grid in %s; each cell is the mean over %s (grey: no trials).",
			m, displayName(b.o.Target), kx, ky, c, seedText(ns))},
		p: p, side: side, sideW: 1.0 * vg.Inch, w: 5.4 * vg.Inch, h: 3.8 * vg.Inch}
}

func decimalsFor(lo, hi float64) int {
	span := hi - lo
	switch {
	case span >= 10:
		return 1
	case span >= 0.1:
		return 2
	}
	return 3
}

func greek(k string) string {
	switch shortKey(k) {
	case "beta":
		return "β"
	case "lambda":
		return "λ"
	}
	return shortKey(k)
}

func indexTicks(vs []string) plot.ConstantTicks {
	t := make(plot.ConstantTicks, len(vs))
	for i, v := range vs {
		t[i] = plot.Tick{Value: float64(i), Label: v}
	}
	return t
}

func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)) / 65535
}

// --- distributions ---

// distLabels are the labels shown in distribution figures: every label
// of the cell (ablations included), top to bottom in paper order.
func (b *builder) distLabels(c cell, get func(*trial) []float64) (labels []string, pooled [][]float64, ns []int) {
	for _, l := range b.g.Labels[c] {
		cf := b.disp[c][l]
		var vals []float64
		seeds := 0
		for _, t := range cf.Trials {
			v := filterFinite(get(t))
			if len(v) > 0 {
				seeds++
			}
			vals = append(vals, v...)
		}
		if len(vals) == 0 {
			continue
		}
		labels = append(labels, l)
		pooled = append(pooled, vals)
		ns = append(ns, seeds)
	}
	return labels, pooled, ns
}

func discrete(vals [][]float64) bool {
	for _, vs := range vals {
		for _, v := range vs {
			if v != -1 && v != 0 && v != 1 {
				return false
			}
		}
	}
	return true
}

func categoryTicks(labels []string) plot.ConstantTicks {
	t := make(plot.ConstantTicks, len(labels))
	for i, l := range labels {
		t[i] = plot.Tick{Value: float64(len(labels) - 1 - i), Label: displayName(l)}
	}
	return t
}

func catHeight(n int) vg.Length { return max(2.6*vg.Inch, vg.Inch+vg.Length(n)*0.32*vg.Inch) }

// rewardShares shows the final judge rewards per algorithm: for a
// three-valued judge a box plot is degenerate, so the shares of prompts
// lost, tied and won are drawn as stacked bars; continuous rewards (a
// learned reward model) get box plots.
func (b *builder) rewardShares(c cell) *figure {
	name := slug("rewards", c.Task, c.Model)
	labels, pooled, ns := b.distLabels(c, func(t *trial) []float64 { return t.Rewards })
	if len(labels) == 0 {
		b.note(name, "skipped: no per-prompt rewards in eval.json for %s", c)
		return nil
	}
	if !discrete(pooled) {
		return b.boxes(c, name, "reward", "final judge reward (per prompt)", labels, pooled, ns)
	}
	title := fmt.Sprintf("Final judge outcome against the reference — task %s, model %s\nshare of eval prompts, pooled over %s",
		c.Task, c.Model, seedText(ns))
	p := newPlotGrid(title, "share of eval prompts (%)", "", true, false)
	leg := newLegend()
	cats := []struct {
		v    float64
		name string
		col  color.NRGBA
		text color.Color
	}{
		{-1, "worse (−1)", hex("#A6611A"), color.White},
		{0, "tie (0)", hex("#DDDDDD"), color.Black},
		{1, "better (+1)", hex("#018571"), color.White},
	}
	var lxy plotter.XYLabels
	var styles []text.Style
	n := len(labels)
	for k, cat := range cats {
		for i, vals := range pooled {
			y := float64(n - 1 - i)
			x0 := 0.0
			for _, prev := range cats[:k] {
				x0 += share(vals, prev.v)
			}
			w := share(vals, cat.v)
			if w == 0 {
				continue
			}
			poly, _ := plotter.NewPolygon(plotter.XYs{{X: x0, Y: y - 0.32}, {X: x0 + w, Y: y - 0.32}, {X: x0 + w, Y: y + 0.32}, {X: x0, Y: y + 0.32}})
			poly.Color = cat.col
			poly.LineStyle = draw.LineStyle{Color: color.White, Width: vg.Points(0.5)}
			p.Add(poly)
			if w >= 8 {
				lxy.XYs = append(lxy.XYs, plotter.XY{X: x0 + w/2, Y: y})
				lxy.Labels = append(lxy.Labels, strconv.FormatFloat(w, 'f', 0, 64)+"%")
				st := p.X.Tick.Label
				st.Font.Size = font.Length(cellSize)
				st.Color = cat.text
				st.XAlign, st.YAlign = draw.XCenter, draw.YCenter
				styles = append(styles, st)
			}
		}
		sw, _ := plotter.NewPolygon(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 1}})
		sw.Color = cat.col
		sw.LineStyle = draw.LineStyle{Color: color.Gray{Y: 100}, Width: vg.Points(0.4)}
		leg.Add(cat.name, sw)
	}
	if len(lxy.Labels) > 0 {
		if l, err := plotter.NewLabels(lxy); err == nil {
			l.TextStyle = styles
			p.Add(l)
		}
	}
	p.Y.Tick.Marker = categoryTicks(labels)
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
	p.X.Min, p.X.Max = 0, 100
	return &figure{Figure: Figure{Name: name, Kind: "distribution", Title: title,
		Caption: fmt.Sprintf("Judge outcome of each algorithm's final model against the reference answer on the eval prompts in %s (share of prompts worse, tied, better), pooled over %s; the share better is RAS.",
			c, seedText(ns))},
		p: p, legend: leg, h: catHeight(n)}
}

func share(vals []float64, v float64) float64 {
	k := 0
	for _, x := range vals {
		if x == v {
			k++
		}
	}
	return 100 * float64(k) / float64(len(vals))
}

func (b *builder) scoreBoxes(c cell) *figure {
	name := slug("scores", c.Task, c.Model)
	labels, pooled, ns := b.distLabels(c, func(t *trial) []float64 { return t.Scores })
	if len(labels) == 0 {
		b.note(name, "skipped: no per-prompt scores in eval.json for %s", c)
		return nil
	}
	return b.boxes(c, name, "score", "final rubric score per prompt (0–1)", labels, pooled, ns)
}

func (b *builder) boxes(c cell, name, what, xlabel string, labels []string, pooled [][]float64, ns []int) *figure {
	title := fmt.Sprintf("Distribution of the final %s per algorithm — task %s, model %s\nper-prompt values pooled over %s; box: quartiles; whiskers: 1.5 IQR; +: mean",
		what, c.Task, c.Model, seedText(ns))
	p := newPlotGrid(title, xlabel, "", true, false)
	n := len(labels)
	var means plotter.XYs
	for i, vals := range pooled {
		y := float64(n - 1 - i)
		bp, err := plotter.NewBoxPlot(vg.Points(13), y, plotter.Values(vals))
		if err != nil {
			continue
		}
		bp.Horizontal = true
		st := b.pal.get(labels[i])
		bp.FillColor = withAlpha(st.Colour, 90) // light, so the median and mean marks stay visible on dark colours
		bp.BoxStyle.Width = vg.Points(0.7)
		bp.MedianStyle.Width = vg.Points(1.6)
		bp.WhiskerStyle.Width = vg.Points(0.7)
		bp.GlyphStyle.Radius = vg.Points(1.5)
		bp.GlyphStyle.Color = color.Gray{Y: 80}
		p.Add(bp)
		means = append(means, plotter.XY{X: mean(vals), Y: y})
	}
	if sc, err := plotter.NewScatter(means); err == nil {
		sc.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(3), Shape: draw.PlusGlyph{}}
		p.Add(sc)
	}
	p.Y.Tick.Marker = categoryTicks(labels)
	padX(p, 0.03)
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
	return &figure{Figure: Figure{Name: name, Kind: "distribution", Title: title,
		Caption: fmt.Sprintf("Per-prompt final %s of each algorithm on the eval prompts in %s, pooled over %s: boxes span the quartiles with the median, whiskers reach 1.5 IQR, dots are outliers and + the mean.",
			what, c, seedText(ns))},
		p: p, h: catHeight(n)}
}
