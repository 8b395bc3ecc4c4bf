package report

import (
	"fmt"
	"strings"
)

// RenderNull prints an A/A calibration as Markdown.
func RenderNull(r *NullResult, source string) string {
	var b strings.Builder
	kinds := "all prompts"
	if len(r.Kinds) > 0 {
		kinds = "kinds " + strings.Join(r.Kinds, ", ")
	}
	fmt.Fprintf(&b, "### A/A: %s vs %s on %s / %s (%s)\n\n", r.Label, r.Label, r.Task, r.Model, source)
	fmt.Fprintf(&b, "%d seeds; %d splits into two disjoint arms of %d seeds (paired by position); metric %s on %s, %d prompts per seed. "+
		"Each split is compared as a [[report.compare]] entry is (no prediction): a rejection is a false positive.\n\n",
		r.Seeds, r.Splits, r.PerArm, r.Metric, kinds, r.Prompts)
	b.WriteString("| test | false positives | rate | 95% CI (Wilson, over splits) |\n|---|---:|---:|---:|\n")
	for _, x := range r.Rates {
		fmt.Fprintf(&b, "| %s | %d / %d | %.1f%% | [%.1f%%, %.1f%%] |\n", x.Test, x.Rejected, x.Splits, 100*x.Rate, 100*x.Lo, 100*x.Hi)
	}
	b.WriteString("\nSplits share seeds, so they are not independent: the interval is that of the rate over these splits and understates the uncertainty about a fresh set of seeds.\n")
	return b.String()
}

// RenderNullAgreement compares the verdicts of the same splits on two
// runs (e.g. two BLAS libraries).
func RenderNullAgreement(a, b *NullResult, nameA, nameB string) string {
	same := 0
	var differ []string
	bothSeparated := false
	for i := range a.Verdicts {
		if i < len(b.Verdicts) && a.Verdicts[i] == b.Verdicts[i] {
			same++
			continue
		}
		if i < len(b.Verdicts) && a.Verdicts[i] != "not separated" && b.Verdicts[i] != "not separated" {
			bothSeparated = true
		}
		if i < len(b.Verdicts) {
			differ = append(differ, fmt.Sprintf("split %d (A %v, B %v): %s vs %s", i+1, a.SplitSeeds[i][0], a.SplitSeeds[i][1], a.Verdicts[i], b.Verdicts[i]))
		}
	}
	var s strings.Builder
	fmt.Fprintf(&s, "### Same splits, %s vs %s\n\nVerdicts agree in %d of %d splits.", nameA, nameB, same, len(a.Verdicts))
	va, vb := verdictRate(a), verdictRate(b)
	if va != nil && vb != nil {
		fmt.Fprintf(&s, " The verdict's false-positive rate is %.1f%% [%.1f%%, %.1f%%] with %s and %.1f%% [%.1f%%, %.1f%%] with %s.",
			100*va.Rate, 100*va.Lo, 100*va.Hi, nameA, 100*vb.Rate, 100*vb.Lo, 100*vb.Hi, nameB)
		if len(differ) > 0 && !bothSeparated {
			s.WriteString(" Each split that differs is a false positive on one side and not separated on the other: rounding moves which arms happen to differ, not how often.")
		}
	}
	s.WriteString("\n")
	for _, d := range differ {
		fmt.Fprintf(&s, "- %s\n", d)
	}
	return s.String()
}

// verdictRate is the rate of the report's verdict (nil when absent).
func verdictRate(r *NullResult) *NullRate {
	for i := range r.Rates {
		if strings.HasPrefix(r.Rates[i].Test, "verdict (") {
			return &r.Rates[i]
		}
	}
	return nil
}
