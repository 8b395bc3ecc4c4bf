package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// kindGrids render the per-kind tables.
func (r *Report) kindGrids() []grid {
	var gs []grid
	for _, kt := range r.KindTables {
		g := grid{
			title: fmt.Sprintf("By kind: %s on %s / %s", kt.Metric, kt.Task, kt.Model),
			caption: "Mean ± 95% CI over seeds per kind of prompt (regimes first: explore = solvable from the prompt, " +
				"imitate = facts known only from the references).",
			header: append([]string{"kind"}, mapStrings(kt.Algorithms, displayName)...),
			right:  append([]bool{false}, repeatBool(true, len(kt.Algorithms))...),
		}
		for i, k := range kt.Kinds {
			dec := decimals(kt.Cells[i])
			line := []string{k}
			for _, c := range kt.Cells[i] {
				line = append(line, r.cellText(c, dec))
			}
			g.rule = append(g.rule, i > 0 && rank(kt.Kinds[i-1], regimeOrder) < len(regimeOrder) && rank(k, regimeOrder) == len(regimeOrder))
			g.rows = append(g.rows, line)
		}
		gs = append(gs, g)
	}
	return gs
}

// selectedGrid renders the hyper-parameters chosen on the dev split.
func (r *Report) selectedGrid() []grid {
	if len(r.Opts.Selected) == 0 {
		return nil
	}
	g := grid{
		title:   "Hyper-parameters selected on the dev split",
		caption: "Each algorithm ran every value on the dev split (never the test split); the best mean " + r.Opts.Selected[0].Metric + " over the selection seeds was kept for the main trials.",
		header:  []string{"algorithm", "tried (dev " + r.Opts.Selected[0].Metric + ")", "chosen"},
		right:   []bool{false, false, false},
	}
	for _, s := range r.Opts.Selected {
		g.rows = append(g.rows, []string{displayName(s.Label), strings.Join(s.Tried, "; "), s.Chosen})
	}
	return []grid{g}
}

// comparisonGrid renders the per-prompt and seed-level tests.
func (r *Report) comparisonGrid() []grid {
	var gs []grid
	if len(r.PromptComparisons) > 0 {
		g := r.promptGrid("Comparisons per prompt and over seeds", r.PromptComparisons, len(r.ControlComparisons) > 0)
		if len(r.ControlComparisons) > 0 {
			g.caption += " A separation also needs its winner to beat its own random-reward control, where it has one (next table)."
		}
		gs = append(gs, g)
	}
	if len(r.ControlComparisons) > 0 {
		g := r.promptGrid("Gain over the random-reward control", r.ControlComparisons, false)
		g.caption = "Each method against the same method, settings and budget trained on a random reward (±1 with probability ½ per sample): " +
			"the part of its gain the reward's content explains. A gain is called only when its 95% interval excludes 0 and both tests reject after Holm (a family of its own). " + g.caption
		gs = append(gs, g)
	}
	return gs
}

// promptGrid renders a list of per-prompt and seed-level comparisons.
func (r *Report) promptGrid(title string, cs []PromptComparison, control bool) grid {
	g := grid{
		title: title,
		caption: fmt.Sprintf("Δ = A − B (points for rates) with its 95%% interval from the crossed test: seeds and prompts both random, "+
			"SE² = var(per-seed Δ)/seeds + var(per-prompt Δ)/prompts, Student t with Welch–Satterthwaite df. "+
			"Seed level: paired t on per-seed means. p-values Holm-corrected over the list, per family. A verdict needs both below %.2f in the same direction; "+
			"otherwise \"not separated\". McNemar (b: A only, c: B only, over prompt × seed pairs, exact, uncorrected) is shown but does not gate: "+
			"it holds the trained models fixed and fires far above α in the A/A calibration. MDE: the smallest |Δ| each design detects at α = %.2f with power %.1f.",
			Alpha, Alpha, Power),
		header: []string{"task / model", "A vs B", "metric", "kinds", "n (seeds × prompts)", "A", "B", "Δ [95% CI]",
			"p crossed (Holm)", "McNemar b/c p", "p seeds (Holm)", "MDE crossed / seeds", "verdict", "prediction"},
		right: []bool{false, false, false, false, true, true, true, true, true, true, true, true, false, false},
	}
	if control {
		g.header = append(g.header, "random-reward control")
		g.right = append(g.right, false)
	}
	for _, c := range cs {
		kinds := strings.Join(c.Spec.Kinds, ", ")
		if kinds == "" {
			kinds = "all"
		}
		pair := displayName(c.Spec.A) + " vs " + displayName(c.Spec.B)
		if c.Spec.Predict != "" {
			pair = displayName(c.Spec.A) + " " + c.Spec.Predict + " " + displayName(c.Spec.B) + "?"
		}
		ctl := dash
		if c.ControlNote != "" {
			ctl = c.ControlNote
		}
		if c.Note != "" {
			row := []string{c.Task + " / " + c.Model, pair, c.Spec.Metric, kinds, dash, dash, dash, dash, dash, dash, dash, dash,
				c.Verdict + " (" + c.Note + ")", dash}
			if control {
				row = append(row, ctl)
			}
			g.rows = append(g.rows, row)
			continue
		}
		dec := 2
		mc := dash
		if !math.IsNaN(c.McNemarP) {
			mc = fmt.Sprintf("%d/%d %s", c.McNemarB, c.McNemarC, fmtP(c.McNemarP))
		}
		seed := fmt.Sprintf("%s (%s)", fmtP(c.SeedP), fmtP(c.SeedHolm))
		if c.SeedNote != "" {
			seed = dash + " (" + c.SeedNote + ")"
		}
		verdict := c.Verdict
		switch c.Verdict {
		case "A > B":
			verdict = displayName(c.A) + " > " + displayName(c.B)
		case "A < B":
			verdict = displayName(c.A) + " < " + displayName(c.B)
		}
		pred := c.Predicted
		if pred == "" {
			pred = dash
		}
		g.rows = append(g.rows, []string{c.Task + " / " + c.Model, pair, c.Spec.Metric, kinds,
			fmt.Sprintf("%d × %d", c.Seeds, c.Prompts), fmtF(c.MeanA, dec), fmtF(c.MeanB, dec),
			fmt.Sprintf("%s [%s, %s]", fmtSigned(c.Diff, dec), fmtF(c.Crossed.Lo, dec), fmtF(c.Crossed.Hi, dec)),
			fmt.Sprintf("%s (%s)", fmtP(c.Crossed.P), fmtP(c.CrossedHolm)), mc, seed,
			fmtF(c.CrossedMDE, dec) + " / " + fmtF(c.SeedMDE, dec), verdict, pred})
		if control {
			g.rows[len(g.rows)-1] = append(g.rows[len(g.rows)-1], ctl)
		}
	}
	return g
}

// comparisonCSV are the comparisons as rows of the CSV output.
func (r *Report) comparisonCSV(put func(map[string]string)) {
	for _, kt := range r.KindTables {
		for i, k := range kt.Kinds {
			for _, c := range kt.Cells[i] {
				if c == nil {
					continue
				}
				rec := map[string]string{"table": "kind", "task": c.Task, "model": c.Model, "metric": c.Metric,
					"algorithm": c.Algorithm, "n": strconv.Itoa(c.N()), "mean": num(c.Mean), "note": "kind " + k}
				if c.HasCI {
					rec["ci_lo"], rec["ci_hi"], rec["half_width"] = num(c.Lo), num(c.Hi), num(c.HalfWidth())
				}
				put(rec)
			}
		}
	}
	for _, c := range r.PromptComparisons {
		put(map[string]string{"table": "compare", "task": c.Task, "model": c.Model, "metric": c.Spec.Metric,
			"algorithm": c.A, "baseline": c.B, "n": strconv.Itoa(c.Seeds * c.Prompts), "mean": num(c.MeanA),
			"absolute": num(c.Diff), "ci_lo": num(c.Crossed.Lo), "ci_hi": num(c.Crossed.Hi), "method": "crossed t over seeds × prompts; paired t over seeds",
			"p": num(c.CrossedHolm), "note": fmt.Sprintf("kinds=%s seed_p_holm=%s mcnemar_p_holm=%s verdict=%s prediction=%s%s",
				strings.Join(c.Spec.Kinds, "+"), num(c.SeedHolm), num(c.McNemarHolm), noSpace(c.Verdict), noSpace(c.Predicted), noteSuffix(c.Note))})
	}
}

// noSpace keeps a verdict one token in the CSV note ("A > B" → "A>B",
// "not separated" → "not-separated").
func noSpace(s string) string {
	return strings.NewReplacer(" > ", ">", " < ", "<", " ", "-").Replace(s)
}

func noteSuffix(n string) string {
	if n == "" {
		return ""
	}
	return " (" + n + ")"
}
