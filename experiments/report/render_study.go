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
	if len(r.PromptComparisons) == 0 {
		return nil
	}
	g := grid{
		title: "Comparisons per prompt and over seeds",
		caption: fmt.Sprintf("Δ = A − B (points for rates). Prompt level: paired bootstrap over prompts (%d resamples; seeds held fixed) and, for rates, "+
			"exact McNemar on discordant prompt × seed pairs (b: A only, c: B only). Seed level: paired t on per-seed means. "+
			"p-values Holm-corrected over the list, per family. A verdict needs every test below %.2f in the same direction; "+
			"otherwise \"not separated\". MDE: the smallest |Δ| each design detects at α = %.2f with power %.1f.",
			r.Opts.Resamples, Alpha, Alpha, Power),
		header: []string{"task / model", "A vs B", "metric", "kinds", "n (seeds × prompts)", "A", "B", "Δ [95% CI]",
			"p prompts (Holm)", "McNemar b/c p (Holm)", "p seeds (Holm)", "MDE prompts / seeds", "verdict", "prediction"},
		right: []bool{false, false, false, false, true, true, true, true, true, true, true, true, false, false},
	}
	for _, c := range r.PromptComparisons {
		kinds := strings.Join(c.Spec.Kinds, ", ")
		if kinds == "" {
			kinds = "all"
		}
		pair := displayName(c.Spec.A) + " vs " + displayName(c.Spec.B)
		if c.Spec.Predict != "" {
			pair = displayName(c.Spec.A) + " " + c.Spec.Predict + " " + displayName(c.Spec.B) + "?"
		}
		if c.Note != "" {
			g.rows = append(g.rows, []string{c.Task + " / " + c.Model, pair, c.Spec.Metric, kinds, dash, dash, dash, dash, dash, dash, dash, dash,
				c.Verdict + " (" + c.Note + ")", dash})
			continue
		}
		dec := 2
		mc := dash
		if !math.IsNaN(c.McNemarP) {
			mc = fmt.Sprintf("%d/%d %s (%s)", c.McNemarB, c.McNemarC, fmtP(c.McNemarP), fmtP(c.McNemarHolm))
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
			fmt.Sprintf("%s [%s, %s]", fmtSigned(c.Diff, dec), fmtF(c.Boot.Lo, dec), fmtF(c.Boot.Hi, dec)),
			fmt.Sprintf("%s (%s)", fmtP(c.Boot.P), fmtP(c.BootHolm)), mc, seed,
			fmtF(c.PromptMDE, dec) + " / " + fmtF(c.SeedMDE, dec), verdict, pred})
	}
	return []grid{g}
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
			"absolute": num(c.Diff), "ci_lo": num(c.Boot.Lo), "ci_hi": num(c.Boot.Hi), "method": "bootstrap over prompts; paired t over seeds",
			"p": num(c.BootHolm), "note": fmt.Sprintf("kinds=%s seed_p_holm=%s mcnemar_p_holm=%s verdict=%s prediction=%s%s",
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
