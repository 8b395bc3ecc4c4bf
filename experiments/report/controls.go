package report

import (
	"fmt"
	"strings"
)

// ControlInfo describes a control arm column (see the sweep's controls
// key): Kind is "base", "sft-ref" or "random-reward"; Of is the column a
// random-reward arm controls.
type ControlInfo struct {
	Kind, Of string
}

// Control kinds as results.csv writes them.
const (
	ControlBase   = "base"
	ControlSFTRef = "sft-ref"
	ControlRandom = "random-reward"
)

// controlsOf reads the control columns of results.csv.
func controlsOf(res *Results) map[string]ControlInfo {
	out := map[string]ControlInfo{}
	for _, r := range res.Rows {
		if r.Control != "" {
			out[r.Algorithm] = ControlInfo{Kind: r.Control, Of: r.ControlOf}
		}
	}
	return out
}

// randomArm returns the random-reward control of a column, if any.
func randomArm(controls map[string]ControlInfo, label string) (string, bool) {
	for l, c := range controls {
		if c.Kind == ControlRandom && c.Of == label {
			return l, true
		}
	}
	return "", false
}

// controlSpecs are the comparisons of columns with their random-reward
// controls: every column on metric over all prompts, and each side of a
// pre-registered comparison on that comparison's metric and kinds (the
// control a separation there must beat), each once.
func controlSpecs(cols []string, controls map[string]ControlInfo, metric string, compare []CompareSpec) []CompareSpec {
	var out []CompareSpec
	seen := map[string]bool{}
	add := func(label, metric string, kinds []string) {
		r, ok := randomArm(controls, label)
		if !ok {
			return
		}
		if metric == "" {
			metric = "RAS"
		}
		key := controlKey(label, metric, kinds)
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, CompareSpec{A: label, B: r, Metric: metric, Kinds: kinds, Predict: ">",
			Why: "the reward's content, not the act of reinforcing sampled answers, drives the gain"})
	}
	for _, c := range cols {
		add(c, metric, nil)
	}
	for _, sp := range compare {
		for _, l := range []string{sp.A, sp.B} {
			if c, ok := findFold(cols, l); ok {
				add(c, sp.Metric, sp.Kinds)
			}
		}
	}
	return out
}

func controlKey(label, metric string, kinds []string) string {
	if metric == "" {
		metric = "RAS"
	}
	return label + "\x00" + metric + "\x00" + strings.Join(kinds, ",")
}

// applyControls withdraws a separation whose winner does not beat its own
// random-reward control in the same cell, on the same metric and prompts: a gain that a random reward
// also gives is not evidence for the method's reward signal.
func applyControls(cs, controls []PromptComparison) {
	beats := map[[3]string]string{} // task, model, label × metric × kinds → verdict over its control
	for _, c := range controls {
		beats[[3]string{c.Task, c.Model, controlKey(c.A, c.Spec.Metric, c.Spec.Kinds)}] = c.Verdict
	}
	for i := range cs {
		c := &cs[i]
		if c.Verdict != "A > B" && c.Verdict != "A < B" {
			continue
		}
		winner := c.A
		if c.Verdict == "A < B" {
			winner = c.B
		}
		v, ok := beats[[3]string{c.Task, c.Model, controlKey(winner, c.Spec.Metric, c.Spec.Kinds)}]
		if !ok {
			continue
		}
		if v == "A > B" {
			c.ControlNote = fmt.Sprintf("%s beats its random-reward control here", displayName(winner))
			continue
		}
		c.ControlNote = fmt.Sprintf("%s does not beat its random-reward control here", displayName(winner))
		c.Verdict = "not separated"
		c.verdictPredicted()
	}
}
