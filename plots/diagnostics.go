package plots

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// diagnostic is one quantity of the training lines that gets a panel.
type diagnostic struct {
	key       string  // key in trainPoint.Values, or in Components when component
	component bool    // logged by the algorithm among its loss components
	title     string  // panel title: the quantity and its unit
	short     string  // its name in the caption
	scale     float64 // 100 for shares, shown in percent
	// lo and hi bound the quantity itself, so a t-interval of few seeds
	// near a bound is cut there instead of promising impossible values.
	lo, hi float64
}

var unbounded = math.Inf(1)

// diagnostics are the panels in display order: what the policy is fed
// (rewards), how far it moved (KL, entropy, length), how hard the update
// pushed (gradient norm, clipping) and whether the groups carried signal.
// Learning rate and loss are left out: the schedule is configured, and the
// loss has its own figure.
var diagnostics = []diagnostic{
	{key: "reward_mean", title: "reward mean (samples)", short: "reward mean", scale: 1, lo: -unbounded, hi: unbounded},
	{key: "reward_std", title: "reward std (samples)", short: "reward std", scale: 1, lo: 0, hi: unbounded},
	// The logged KL is a k1 estimate, which can dip below zero on a
	// batch; the divergence it estimates cannot.
	{key: "kl", title: "KL to start (nats / seq.)", short: "KL to the starting policy", scale: 1, lo: 0, hi: unbounded},
	{key: "entropy", title: "entropy (nats / token)", short: "entropy", scale: 1, lo: 0, hi: unbounded},
	{key: "length_mean", title: "completion length (tokens)", short: "completion length", scale: 1, lo: 0, hi: unbounded},
	{key: "grad_norm", title: "grad norm (before clipping)", short: "gradient norm", scale: 1, lo: 0, hi: unbounded},
	{key: "clip_fraction", component: true, title: "clip fraction (%)", short: "clip fraction", scale: 100, lo: 0, hi: 1},
	{key: "zero_variance", title: "groups without signal (%)", short: "share of groups whose samples all got the same judge reward", scale: 100, lo: 0, hi: 1},
	{key: "groups_kept", title: "groups kept by filter (%)", short: "share of groups kept by the dynamic-sampling filter", scale: 100, lo: 0, hi: 1},
	// Mixture-of-experts models: how evenly the router spreads tokens.
	{key: "model/moe/frac_max", title: "busiest expert's share (%)", short: "share of routed tokens taken by the busiest expert", scale: 100, lo: 0, hi: 1},
	{key: "model/moe/util_entropy", title: "expert use entropy (1 = even)", short: "entropy of the experts' token shares over its maximum", scale: 1, lo: 0, hi: 1},
}

const (
	// smoothPoints: a run of n logged steps is smoothed over a span of
	// n/smoothPoints steps, so about that many independent stretches
	// remain; runs under 2·smoothPoints steps are drawn unsmoothed.
	smoothPoints = 50
	// maxLinePoints thins each line; the EMA at a kept step already
	// carries the steps skipped before it.
	maxLinePoints = 100
	// A row of panels is as tall as a panel can be while keeping the
	// figure's 6.5-inch width legible; the title takes two lines.
	panelH      = 1.9 * vg.Inch
	panelTitleH = 0.55 * vg.Inch
)

func (d diagnostic) value(tp trainPoint) (float64, bool) {
	m := tp.Values
	if d.component {
		m = tp.Components
	}
	v, ok := m[d.key]
	return v, ok && finite(v)
}

// smoothingSpan is the EMA span for a cell whose longest trial logged n
// training steps.
func smoothingSpan(n int) int { return max(1, n/smoothPoints) }

// ema is the exponential moving average with α = 2/(span+1), divided by
// the weight accumulated so far (as TensorBoard's smoothing) so the first
// points are not pulled towards zero. span ≤ 1 returns xs unchanged.
func ema(xs []float64, span int) []float64 {
	out := append([]float64(nil), xs...)
	if span <= 1 {
		return out
	}
	a := 2 / float64(span+1)
	var m, w float64
	for i, x := range xs {
		m = (1-a)*m + a*x
		w = (1-a)*w + a
		out[i] = m / w
	}
	return out
}

// thin keeps at most k of the sorted steps, evenly spread by index, always
// the first and the last: the end of training is what readers look for.
func thin(steps []int, k int) []int {
	n := len(steps)
	if n <= k || k < 2 {
		return steps
	}
	out := make([]int, 0, k)
	for j := range k {
		out = append(out, steps[int(math.Round(float64(j)*float64(n-1)/float64(k-1)))])
	}
	return out
}

// diagCurve is the mean over the seeds of cf of each seed's smoothed
// series of d, with its interval clipped to d's range.
func (b *builder) diagCurve(cf *config, d diagnostic, span int) curve {
	var perTrial []map[int]float64
	union := map[int]bool{}
	for _, t := range cf.Trials {
		var steps []int
		var xs []float64
		for _, tp := range t.Train {
			if v, ok := d.value(tp); ok {
				steps = append(steps, tp.Step)
				xs = append(xs, v)
			}
		}
		if len(xs) == 0 {
			continue
		}
		sm := map[int]float64{}
		for i, v := range ema(xs, span) {
			sm[steps[i]] = v
			union[steps[i]] = true
		}
		perTrial = append(perTrial, sm)
	}
	var all []int
	for s := range union {
		all = append(all, s)
	}
	sort.Ints(all)
	by := map[int][]float64{}
	for _, s := range thin(all, maxLinePoints) {
		for _, sm := range perTrial {
			if v, ok := sm[s]; ok {
				by[s] = append(by[s], v)
			}
		}
	}
	cv := b.curveOf(by, cf.Label+"|"+cf.paramKey()+"|train|"+d.key)
	for i := range cv.steps {
		if cv.hasCI[i] {
			cv.lo[i] = math.Min(math.Max(cv.lo[i], d.lo), d.hi)
			cv.hi[i] = math.Min(math.Max(cv.hi[i], d.lo), d.hi)
		}
	}
	return cv
}

// panelLayout puts n panels and the legend tile on a grid at most three
// wide (two while that keeps it to two rows).
func panelLayout(n int) (rows, cols int) {
	cols = 3
	if n+1 <= 4 {
		cols = 2
	}
	return (n + cols) / cols, cols
}

// trainingDiagnostics plots what the trainer logs per step in one cell:
// one panel per logged quantity, one line per algorithm.
func (b *builder) trainingDiagnostics(c cell) *figure {
	name := slug("diagnostics", c.Task, c.Model)
	labels := b.g.Labels[c]
	longest := 0
	for _, l := range labels {
		for _, t := range b.disp[c][l].Trials {
			longest = max(longest, len(t.Train))
		}
	}
	if longest == 0 {
		b.note(name, "skipped: no training lines in metrics.jsonl for %s", c)
		return nil
	}
	span := smoothingSpan(longest)
	type panel struct {
		d      diagnostic
		curves []curve
		labels []string
	}
	var panels []panel
	shown := map[string]bool{}
	for _, d := range diagnostics {
		pn := panel{d: d}
		for _, l := range labels {
			cv := b.diagCurve(b.disp[c][l], d, span)
			if len(cv.steps) == 0 {
				continue
			}
			pn.curves = append(pn.curves, cv)
			pn.labels = append(pn.labels, l)
			shown[l] = true
		}
		if len(pn.curves) > 0 {
			panels = append(panels, pn)
		}
	}
	if len(panels) == 0 {
		b.note(name, "skipped: the training lines in %s log none of the diagnostics (reward_mean, kl, entropy, …)", c)
		return nil
	}
	var ns []int
	leg := newLegend()
	for _, l := range labels {
		if shown[l] {
			ns = append(ns, len(b.disp[c][l].Trials))
			legendEntry(leg, displayName(l), b.pal.get(l))
		}
	}

	smoothing := "unsmoothed"
	if span > 1 {
		smoothing = fmt.Sprintf("EMA over %d steps", span)
	}
	title := fmt.Sprintf("Training diagnostics — task %s, model %s\nmean over %s (%s); shaded: %s across seeds",
		c.Task, c.Model, seedText(ns), smoothing, describeCI(b.o.CI))
	rows, cols := panelLayout(len(panels))
	grid := make([][]*plot.Plot, rows)
	for j := range grid {
		grid[j] = make([]*plot.Plot, cols)
	}
	var names []string
	for i, pn := range panels {
		xlabel := ""
		if i+cols >= len(panels) { // nothing below it: the axis needs its name
			xlabel = "training step"
		}
		p := newPanel(pn.d.title, xlabel)
		for k, cv := range pn.curves {
			addCurve(p, nil, "", b.pal.get(pn.labels[k]), cv, pn.d.scale, false)
		}
		p.X.Min = 0
		padY(p, 0.04)
		grid[i/cols][i%cols] = p
		names = append(names, pn.d.short)
	}

	how := "each seed's series unsmoothed"
	if span > 1 {
		how = fmt.Sprintf("each seed's series first smoothed by an exponential moving average (span %d logged steps, α = 2/(span+1), bias-corrected)", span)
	}
	caption := fmt.Sprintf("Per-step training diagnostics in %s against training step: %s. Lines are the mean over %s of %s, drawn at up to %d steps including the last; shaded bands the %s across seeds (none where only one seed has the step), clipped to each quantity's range (all but the reward mean are non-negative, shares lie within 0–100%%). Rewards are the training samples' (the algorithm's training reward), not the held-out evaluation.",
		c, strings.Join(names, "; "), seedText(ns), how, maxLinePoints, describeCI(b.o.CI))
	return &figure{
		Figure: Figure{Name: name, Kind: "diagnostics", Title: title, Caption: caption},
		panels: grid, legend: leg,
		w: defaultW, h: panelTitleH + vg.Length(rows)*panelH,
	}
}

// newPanel is newPlot sized for a tile: the quantity is the panel's title
// rather than a y label, which would eat a third of a narrow panel.
func newPanel(title, xlabel string) *plot.Plot {
	p := newPlot(title, xlabel, "")
	p.Title.TextStyle.Font.Size = font.Length(labelSize - 1)
	p.Title.Padding = vg.Points(3)
	p.X.Label.TextStyle.Font.Size = font.Length(labelSize - 1)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Tick.Label.Font.Size = font.Length(tickSize - 1)
	}
	return p
}

// legendEntry adds a label with a band swatch and its line: the panels'
// lines carry no legend entries of their own, so each algorithm is listed
// once and in the paper's order whichever panel it first appears in.
func legendEntry(leg *plot.Legend, name string, st style) {
	band, err1 := plotter.NewPolygon(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 1}})
	ln, err2 := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err1 != nil || err2 != nil {
		return
	}
	band.Color = withAlpha(st.Colour, 45)
	band.LineStyle.Width = 0
	ln.LineStyle = draw.LineStyle{Color: st.Colour, Width: st.Width, Dashes: st.Dashes}
	leg.Add(name, band, ln)
}
