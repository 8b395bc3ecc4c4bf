package plots

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

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
