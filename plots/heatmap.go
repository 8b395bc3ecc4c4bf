package plots

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

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
