package sweep

import (
	"fmt"
	"slices"
	"strings"

	"github.com/grao-lab/grao/experiments/tasks"
)

// SelectMetrics are the metrics [select] may maximise: the per-trial
// evaluation metrics where higher is better.
var SelectMetrics = []string{"reward", "RAS", "win_tie", "score", "NAG", "NAG_signed"}

// HasSelection reports whether the sweep has [select] grid keys.
func (s *Sweep) HasSelection() bool { return len(s.Select.Grid) > 0 }

// GroupKey identifies the selection a trial belongs to: its label and
// main-grid point (its Varying values). Selection trials and the main
// trials their choice applies to share it.
func GroupKey(t Trial) string {
	var b strings.Builder
	b.WriteString(t.Label)
	for _, k := range sortedKeys(t.Varying) {
		fmt.Fprintf(&b, "|%s=%s", k, t.Varying[k])
	}
	return b.String()
}

func groupKeyOf(label string, point []assignment) string {
	v := map[string]string{}
	for _, as := range point {
		if as.many {
			v[as.g.key] = formatValue(as.value)
		}
	}
	return GroupKey(Trial{Label: label, Varying: v})
}

// SelectionTrials expands the selection phase: for every algorithm, main
// grid point and applicable [select] point, one trial per select seed,
// evaluated on the dev split. Trial.Selected holds the point's values.
func (s *Sweep) SelectionTrials() ([]Trial, error) {
	el := &errList{file: s.fileName()}
	if _, ok := s.check(el); !ok || el.err() != nil {
		return nil, el.err()
	}
	if !s.HasSelection() {
		return nil, nil
	}
	sel := s.selectSpec()
	trials := s.expandWith(el, skipped{}, func(a *AlgorithmSpec, _ []assignment) ([][]assignment, []uint64, bool) {
		if !a.selects() {
			return nil, nil, false
		}
		return s.selectPoints(a.label()), sel.Seeds, true
	})
	if err := el.err(); err != nil {
		return nil, err
	}
	return trials, nil
}

// ExpandChosen expands the main trials with the values selection chose:
// chosen maps a GroupKey to select key → value (as the grid value prints,
// e.g. "0.0003"). Without [select] it is Expand.
func (s *Sweep) ExpandChosen(chosen map[string]map[string]string) ([]Trial, error) {
	if !s.HasSelection() {
		return s.Expand()
	}
	el := &errList{file: s.fileName()}
	if _, ok := s.check(el); !ok || el.err() != nil {
		return nil, el.err()
	}
	trials := s.expandWith(el, skipped{}, func(a *AlgorithmSpec, point []assignment) ([][]assignment, []uint64, bool) {
		if a.control == ControlBase {
			return [][]assignment{nil}, s.Seeds, false
		}
		g := groupKeyOf(a.gridLabel(), point)
		ch, ok := chosen[g]
		if !ok {
			el.add(0, "select", "no selection was made for %s", g)
			return nil, nil, false
		}
		pt, err := s.chosenPoint(a.gridLabel(), ch)
		if err != nil {
			el.add(0, "select", "%s: %v", g, err)
			return nil, nil, false
		}
		return [][]assignment{pt}, s.Seeds, false
	})
	if err := el.err(); err != nil {
		return nil, err
	}
	return trials, nil
}

// checkSelect validates [select] and [[report.compare]] (the parts of a
// study that do not depend on a trial).
func (s *Sweep) checkSelect(el *errList, byLabel map[string]*AlgorithmSpec) {
	sel := s.Select
	if sel.Metric != "" && !slices.Contains(SelectMetrics, sel.Metric) {
		el.add(s.line("select.metric"), "select.metric", "%q: want one of %s", sel.Metric, strings.Join(SelectMetrics, ", "))
	}
	if s.set["select.seeds"] && len(sel.Seeds) == 0 {
		el.add(s.line("select.seeds"), "select.seeds", "at least one seed is required")
	}
	seen := map[uint64]bool{}
	for _, sd := range sel.Seeds {
		if seen[sd] {
			el.add(s.line("select.seeds"), "select.seeds", "seed %d is listed twice", sd)
		}
		seen[sd] = true
	}
	if !s.HasSelection() && (s.set["select.metric"] || s.set["select.seeds"]) {
		el.add(s.line("select"), "select", "has settings but no grid keys to select (e.g. \"train.lr\" = [2e-4, 1e-3])")
	}
	for _, k := range sortedKeys(sel.Grid) {
		g := s.selKey(k)
		if _, dup := s.Grid[k]; dup {
			el.add(g.line, g.disp, "%q is also a [sweep] key: a key is either selected on the dev split or swept, not both", k)
			continue
		}
		checkGridValues(el, g, sel.Grid[k], byLabel)
		if strings.HasPrefix(k, "eval.") || k == "task.name" || strings.HasPrefix(k, "model.") {
			el.add(g.line, g.disp, "cannot be selected: selection compares training settings on one task, model and evaluation")
		}
	}
	for i, c := range s.Report.Compare {
		key := fmt.Sprintf("report.compare[%d]", i+1)
		line := s.loc.lineOf(locSegs(key)...)
		for _, f := range []struct{ name, label string }{{"a", c.A}, {"b", c.B}} {
			if byLabel[f.label] == nil {
				el.add(s.loc.lineOf(locSegs(key+"."+f.name)...), key+"."+f.name, "no [[algorithm]] is labelled %q (labels: %s)", f.label, strings.Join(sortedKeys(byLabel), ", "))
			}
		}
		if c.A == c.B && c.A != "" {
			el.add(line, key, "a and b are both %q", c.A)
		}
		if c.Metric != "" && !slices.Contains(compareMetrics, c.Metric) {
			el.add(s.loc.lineOf(locSegs(key+".metric")...), key+".metric", "%q: want one of %s (per-prompt metrics)", c.Metric, strings.Join(compareMetrics, ", "))
		}
		if c.Predict != "" && c.Predict != ">" && c.Predict != "<" {
			el.add(s.loc.lineOf(locSegs(key+".predict")...), key+".predict", "%q: want \">\" (a above b) or \"<\"", c.Predict)
		}
		if s.Task.Name == tasks.Skills {
			for _, k := range c.Kinds {
				if _, ok := tasks.LookupKind(k); !ok && k != tasks.RegimeExplore && k != tasks.RegimeImitate {
					el.add(s.loc.lineOf(locSegs(key+".kinds")...), key+".kinds", "%q is neither a kind (%s) nor a regime (explore, imitate)", k, strings.Join(tasks.KindNames(), ", "))
				}
			}
		}
	}
}

// compareMetrics are the per-prompt metrics a comparison can test.
var compareMetrics = []string{"RAS", "win_tie", "NAG", "reward", "score"}

// SelectSettings is the resolved [select] (defaults filled in).
func (s *Sweep) SelectSettings() SelectSpec { return s.selectSpec() }

// selectSpec is the resolved [select] settings.
func (s *Sweep) selectSpec() SelectSpec {
	sel := s.Select
	resolveSelect(&sel, s.explicit(nil))
	return sel
}

// selKey locates a [select] grid key for error messages.
func (s *Sweep) selKey(k string) gridKey {
	if g, ok := s.selGrid[k]; ok {
		return g
	}
	return gridKey{key: k, disp: "select." + strconvQuoteKey(k)}
}

// selectPoints are the [select] grid points that apply to an algorithm.
func (s *Sweep) selectPoints(label string) [][]assignment {
	keys := applicableKeys(s.Select.Grid, label, nil)
	var out [][]assignment
	odometer(s.Select.Grid, keys, func(idx []int) {
		pt := make([]assignment, len(keys))
		for i, k := range keys {
			pt[i] = s.selectAssignment(label, k, s.Select.Grid[k][idx[i]])
		}
		out = append(out, pt)
	})
	return out
}

func (s *Sweep) selectAssignment(label, key string, v any) assignment {
	as := assignment{g: s.selKey(key), value: v, selected: true}
	if rest, ok := strings.CutPrefix(key, "algorithm."+label+"."); ok {
		as.param = rest
	}
	return as
}

// chosenPoint turns a recorded choice back into assignments, checking it
// against the [select] grid (a choice made for another version of the
// sweep is an error, not a silent default).
func (s *Sweep) chosenPoint(label string, ch map[string]string) ([]assignment, error) {
	keys := applicableKeys(s.Select.Grid, label, nil)
	var pt []assignment
	for _, k := range keys {
		v, ok := ch[k]
		if !ok {
			return nil, fmt.Errorf("no value chosen for %s", k)
		}
		i := slices.IndexFunc(s.Select.Grid[k], func(x any) bool { return formatValue(x) == v })
		if i < 0 {
			return nil, fmt.Errorf("%s = %s is not one of the [select] values", k, v)
		}
		pt = append(pt, s.selectAssignment(label, k, s.Select.Grid[k][i]))
	}
	for k := range ch {
		if !slices.Contains(keys, k) {
			return nil, fmt.Errorf("%s is not a [select] key of this algorithm", k)
		}
	}
	return pt, nil
}
