package plots

import (
	"fmt"
	"math"
	"strings"
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
	for _, c := range g.Cells {
		add(b.trainingDiagnostics(c))
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
