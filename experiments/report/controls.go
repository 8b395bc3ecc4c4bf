package report

import "fmt"

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

// controlSpecs are the comparisons of every column with its
// random-reward control: is its gain more than sampling alone gives?
func controlSpecs(cols []string, controls map[string]ControlInfo, metric string) []CompareSpec {
	var out []CompareSpec
	for _, c := range cols {
		if r, ok := randomArm(controls, c); ok {
			out = append(out, CompareSpec{A: c, B: r, Metric: metric, Predict: ">",
				Why: "the reward's content, not the act of reinforcing sampled answers, drives the gain"})
		}
	}
	return out
}

// applyControls withdraws a separation whose winner does not beat its own
// random-reward control in the same cell: a gain that a random reward
// also gives is not evidence for the method's reward signal.
func applyControls(cs, controls []PromptComparison) {
	beats := map[[3]string]string{} // task, model, label → verdict over its control
	for _, c := range controls {
		beats[[3]string{c.Task, c.Model, c.A}] = c.Verdict
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
		v, ok := beats[[3]string{c.Task, c.Model, winner}]
		if !ok {
			continue
		}
		if v == "A > B" {
			c.ControlNote = fmt.Sprintf("%s beats its random-reward control", displayName(winner))
			continue
		}
		c.ControlNote = fmt.Sprintf("%s does not beat its random-reward control", displayName(winner))
		c.Verdict = "not separated"
		c.verdictPredicted()
	}
}
