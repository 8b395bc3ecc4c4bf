package calibrate

import (
	"fmt"
	"io"
	"strings"
)

// Render writes t as a Markdown table: one row per kind (and level), then
// the whole mix. setting, when not nil, describes a kind's level (e.g.
// "2 digits").
func (t Table) Render(w io.Writer, setting func(kind string, level int) string) error {
	var b strings.Builder
	gs := t.Config.Gs
	fmt.Fprintf(&b, "| kind | regime | level | prompts | pass@1 | win@1 | score |")
	for _, what := range []string{"all-lose", "all-win", "zero-var"} {
		for _, g := range gs {
			fmt.Fprintf(&b, " %s G=%d |", what, g)
		}
	}
	for _, g := range gs {
		fmt.Fprintf(&b, " informative/step G=%d |", g)
	}
	b.WriteString("\n|---|---|---|---:|---:|---:|---:|")
	for range 4 * len(gs) {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	row := func(r KindStats) {
		lvl := "—"
		if r.Level > 0 {
			lvl = fmt.Sprint(r.Level)
			if setting != nil {
				if s := setting(r.Kind, r.Level); s != "" {
					lvl += " (" + s + ")"
				}
			}
		}
		regime := r.Regime
		if regime == "" {
			regime = "—"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %.1f%% | %.1f%% | %.3f |", r.Kind, regime, lvl, r.Prompts, 100*r.Pass, 100*r.Win, r.Score)
		for _, f := range []func(Groups) float64{
			func(g Groups) float64 { return g.AllLose },
			func(g Groups) float64 { return g.AllWin },
			func(g Groups) float64 { return g.ZeroVar },
		} {
			for _, g := range r.Groups {
				fmt.Fprintf(&b, " %.1f%% |", 100*f(g))
			}
		}
		for _, g := range r.Groups {
			fmt.Fprintf(&b, " %.2f |", g.Informative)
		}
		b.WriteString("\n")
	}
	for _, r := range t.Kinds {
		row(r)
	}
	all := t.All
	all.Kind = "**all**"
	row(all)
	fmt.Fprintf(&b, "\n%d samples per prompt at temperature %g (seed %d); pass@1 = judged at least as good as the reference (R ≥ 0); informative/step = expected groups with non-zero reward variance among %d prompts per step.\n",
		t.Config.Samples, t.Config.Temperature, t.Config.Seed, t.Config.PromptsPerStep)
	_, err := io.WriteString(w, b.String())
	return err
}
