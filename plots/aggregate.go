package plots

import (
	"errors"
	"fmt"
	"image/color"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The figures of Agarwal et al. 2021 (arXiv:2108.13264) for the
// statistics of experiments/aggregate. They take computed values, not a
// sweep directory, so they return the plot for the caller to place and
// save; colours and names per algorithm are those of every other figure.

// ProfileSeries is one algorithm's performance profile with an optional CI
// band: Fraction[i] (and Lo[i], Hi[i] when set) belong to Taus[i].
type ProfileSeries struct {
	Label                  string
	Taus, Fraction, Lo, Hi []float64
}

// PerformanceProfiles draws rliable's performance profiles: for each
// series, the fraction of runs scoring above each threshold τ, as a line,
// with a shaded band where Lo and Hi are set. A profile that lies above
// another everywhere is better at every threshold, which no single
// aggregate can show. It errors on no series, on mismatched or empty
// slices, non-finite values and repeated labels.
func PerformanceProfiles(title string, series []ProfileSeries) (*plot.Plot, error) {
	return performanceProfiles(title, series, nil)
}

// performanceProfiles draws the profiles with their legend in leg, or
// inside the plot when leg is nil (many series cover the curves there).
func performanceProfiles(title string, series []ProfileSeries, leg *plot.Legend) (*plot.Plot, error) {
	if len(series) == 0 {
		return nil, errors.New("plots: performance profiles: no series")
	}
	var labels []string
	for i, s := range series {
		n := len(s.Taus)
		switch {
		case n == 0:
			return nil, fmt.Errorf("plots: performance profile %d (%q): no thresholds", i, s.Label)
		case len(s.Fraction) != n:
			return nil, fmt.Errorf("plots: performance profile %q: %d fractions for %d thresholds", s.Label, len(s.Fraction), n)
		case (len(s.Lo) > 0 || len(s.Hi) > 0) && (len(s.Lo) != n || len(s.Hi) != n):
			return nil, fmt.Errorf("plots: performance profile %q: band of %d lower and %d upper bounds for %d thresholds", s.Label, len(s.Lo), len(s.Hi), n)
		}
		for _, vs := range [][]float64{s.Taus, s.Fraction, s.Lo, s.Hi} {
			if slices.ContainsFunc(vs, func(v float64) bool { return !finite(v) }) {
				return nil, fmt.Errorf("plots: performance profile %q: values must be finite", s.Label)
			}
		}
		l := canonicalLabel(s.Label)
		if slices.Contains(labels, l) {
			return nil, fmt.Errorf("plots: performance profiles: label %q twice", s.Label)
		}
		labels = append(labels, l)
	}
	pal := newPalette(slices.Clone(labels), DefaultOptions().Target)
	p := newPlot(title, "normalised score τ", "fraction of runs with score > τ")
	// Profiles fall from the top left to the bottom right, so the top
	// right corner is the one the curves leave free.
	p.Legend.Top, p.Legend.Left = true, false
	p.Legend.ThumbnailWidth = vg.Points(22)
	for i, s := range series {
		cv := curve{steps: s.Taus, mean: s.Fraction, lo: s.Lo, hi: s.Hi, hasCI: make([]bool, len(s.Taus))}
		if len(s.Lo) > 0 {
			for j := range cv.hasCI {
				cv.hasCI[j] = true
			}
		}
		l := leg
		if l == nil {
			l = &p.Legend
		}
		addCurve(p, l, shownLabel(s.Label), pal.get(labels[i]), cv, 1, false)
	}
	p.Y.Min, p.Y.Max = 0, 1
	padY(p, 0.03)
	padX(p, 0.03) // room for the last tick label, which sits on the frame
	return p, nil
}

// IntervalRow is one algorithm's estimate with CI.
type IntervalRow struct {
	Label         string
	Point, Lo, Hi float64
}

// IntervalEstimates draws rliable's interval-estimate plot: one row per
// algorithm, top to bottom in the given order, a bar in the algorithm's
// colour from Lo to Hi and a black tick at Point, so overlapping intervals
// are seen at a glance. xLabel names the statistic. It errors on no rows,
// non-finite values, Lo > Hi and repeated labels.
func IntervalEstimates(title, xLabel string, rows []IntervalRow) (*plot.Plot, error) {
	if len(rows) == 0 {
		return nil, errors.New("plots: interval estimates: no rows")
	}
	var labels, shown []string
	for _, r := range rows {
		if !finite(r.Point) || !finite(r.Lo) || !finite(r.Hi) {
			return nil, fmt.Errorf("plots: interval estimate %q: values must be finite", r.Label)
		}
		if r.Lo > r.Hi {
			return nil, fmt.Errorf("plots: interval estimate %q: lower bound %v above upper bound %v", r.Label, r.Lo, r.Hi)
		}
		l := canonicalLabel(r.Label)
		if slices.Contains(labels, l) {
			return nil, fmt.Errorf("plots: interval estimates: label %q twice", r.Label)
		}
		labels = append(labels, l)
		shown = append(shown, shownLabel(r.Label))
	}
	pal := newPalette(slices.Clone(labels), DefaultOptions().Target)
	p := newPlotGrid(title, xLabel, "", true, false)
	const half = 0.3 // half the bar height, in rows
	n := len(rows)
	for i, r := range rows {
		y := float64(n - 1 - i)
		st := pal.get(labels[i])
		bar, err := plotter.NewPolygon(plotter.XYs{{X: r.Lo, Y: y - half}, {X: r.Hi, Y: y - half}, {X: r.Hi, Y: y + half}, {X: r.Lo, Y: y + half}})
		if err != nil {
			return nil, err
		}
		bar.Color = withAlpha(st.Colour, 190) // light enough that the black tick shows on dark colours
		bar.LineStyle = draw.LineStyle{Color: st.Colour, Width: vg.Points(0.6)}
		p.Add(bar)
		tick, err := plotter.NewLine(plotter.XYs{{X: r.Point, Y: y - half}, {X: r.Point, Y: y + half}})
		if err != nil {
			return nil, err
		}
		tick.LineStyle = draw.LineStyle{Color: color.Black, Width: vg.Points(1.6)}
		p.Add(tick)
	}
	slices.Reverse(shown) // indexTicks counts from the bottom row
	p.Y.Tick.Marker = indexTicks(shown)
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
	padX(p, 0.05)
	return p, nil
}

// shownLabel is how a caller's label is written: the paper's names for
// labels already in canonical form ("grao-no-imitation" ⇒ "GRAO w/o
// imitation"), anything else as the caller spelled it, since canonical
// form lower-cases.
func shownLabel(l string) string {
	if canonicalLabel(l) == l {
		return displayName(l)
	}
	return l
}
