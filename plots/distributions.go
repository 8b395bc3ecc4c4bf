package plots

import (
	"fmt"
	"image/color"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

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
