package sweep

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/grao-lab/grao/algorithms"
)

// check applies the rules that do not need a trial. It returns the
// algorithms and grid keys it rejected, and false when the sweep is too
// large to expand.
func (s *Sweep) check(el *errList) (skipped, bool) {
	sk := skipped{alg: map[int]bool{}, grid: map[string]bool{}}
	s.addControls(el)
	if name := s.name(); name == "" {
		el.add(0, "name", "required (or parse from a file, whose base name is the default)")
	} else if !nameRE.MatchString(name) {
		how := "set by"
		if !s.set["name"] {
			how = "taken from the file name for"
		}
		el.add(s.line("name"), "name", "%q (%s the output directory runs/<name>) must be letters, digits, '.', '_' or '-'", name, how)
	}
	if len(s.Seeds) == 0 {
		el.add(s.line("seeds"), "seeds", "at least one seed is required, e.g. seeds = [1, 2, 3]")
	}
	seen := map[uint64]bool{}
	for _, sd := range s.Seeds {
		if seen[sd] {
			el.add(s.line("seeds"), "seeds", "seed %d is listed twice", sd)
		}
		seen[sd] = true
	}
	if s.Workers < 0 {
		el.add(s.line("workers"), "workers", "must be ≥ 0 (0: chosen from the cores), got %d", s.Workers)
	}
	if len(s.Algorithms) == 0 {
		el.add(0, "algorithm", "at least one [[algorithm]] table is required")
	}
	known := algorithms.Names()
	byLabel := map[string]*AlgorithmSpec{}
	for i := range s.Algorithms {
		a := &s.Algorithms[i]
		switch {
		case a.Name == "":
			el.add(a.line, a.disp(), "name is required (one of %s)", strings.Join(known, ", "))
			sk.alg[i] = true
			continue
		case !slices.Contains(known, a.Name):
			el.add(a.paramLine("name"), a.disp()+".name", "unknown algorithm %q%s (have %s; another needs a program that links it: docs/writing-an-algorithm.md)",
				a.Name, didYouMean(a.Name, known), strings.Join(known, ", "))
			sk.alg[i] = true
		}
		l := a.label()
		if !labelRE.MatchString(l) {
			el.add(a.paramLine("label"), a.disp()+".label", "%q must be letters, digits, '_' or '-' (it names trials and grid keys)", l)
			sk.alg[i] = true
			continue
		}
		if prev, dup := byLabel[l]; dup {
			el.add(a.paramLine("label"), a.disp(), "label %q is already used by the [[algorithm]] on line %d; give one of them another label", l, prev.line)
			sk.alg[i] = true
			continue
		}
		byLabel[l] = a
	}
	for _, k := range sortedKeys(s.Grid) {
		n := len(el.errs)
		s.checkGridKey(el, k, byLabel)
		if len(el.errs) > n {
			sk.grid[k] = true
		}
	}
	expandable := true
	if n := s.count(); n > MaxTrials {
		el.add(s.line("sweep"), "sweep", "expands to more than %d trials (seeds × algorithms × grid points); split the sweep", MaxTrials)
		expandable = false
	}
	if s.set["model.label"] {
		for k := range s.Grid {
			if strings.HasPrefix(k, "model.") {
				el.add(s.line("model.label"), "model.label", "is fixed while the grid varies %s: trials of different models would share a label", k)
				break
			}
		}
	}
	s.checkReport(el, byLabel)
	s.checkSelect(el, byLabel)
	s.checkPassK(el)
	s.checkSlurm(el)
	return sk, expandable
}

// ReportMetrics are the metrics every trial's eval.json holds (those of a
// sample of prompts per kind or regime are "m@kind").
var ReportMetrics = []string{"RAS", "win_tie", "NAG", "NAG_signed", "reward", "score", "length", "distinct2", "kl", "steps_to_90"}

// knownMetric reports whether the report can find m in results.csv.
func knownMetric(m string) bool {
	base, _, _ := strings.Cut(m, "@")
	return slices.Contains(ReportMetrics, base)
}

// MaxTrials bounds a sweep's size: a larger grid is almost surely a
// mistake, and Parse validates every grid point.
const MaxTrials = 100_000

// count is the number of trials, saturating above MaxTrials.
func (s *Sweep) count() int {
	total := 0
	for i := range s.Algorithms {
		label := s.Algorithms[i].gridLabel()
		n := max(1, len(s.Seeds))
		for k, vals := range s.Grid {
			if rest, ok := strings.CutPrefix(k, "algorithm."); ok {
				if l, _, _ := strings.Cut(rest, "."); l != label {
					continue
				}
			}
			n *= max(1, len(vals))
			if n > MaxTrials {
				return MaxTrials + 1
			}
		}
		if total += n; total > MaxTrials {
			return MaxTrials + 1
		}
	}
	return total
}

func (a *AlgorithmSpec) disp() string {
	if l := a.label(); l != "" && labelRE.MatchString(l) {
		return "algorithm." + l
	}
	return fmt.Sprintf("algorithm[%d]", a.index+1)
}

func (s *Sweep) gridKey(k string) gridKey {
	if g, ok := s.grid[k]; ok {
		return g
	}
	return gridKey{key: k, disp: "sweep." + strconvQuoteKey(k)}
}

func strconvQuoteKey(k string) string {
	if strings.Contains(k, ".") {
		return strconv.Quote(k)
	}
	return k
}

// trialSections are the parts of a Trial that grid keys may address.
var trialSections = []string{"model", "task", "pretrain", "train", "eval", "reward"}

// trialField finds a scalar field of t by its dotted key (train.lr).
func trialField(t *Trial, key string) (reflect.Value, bool) {
	sec, field, ok := strings.Cut(key, ".")
	if !ok || !slices.Contains(trialSections, sec) {
		return reflect.Value{}, false
	}
	sv, ok := fieldByTag(reflect.ValueOf(t).Elem(), sec, true)
	if !ok {
		return reflect.Value{}, false
	}
	f, ok := fieldByTag(sv, field, true)
	if !ok {
		return reflect.Value{}, false
	}
	switch f.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Uint64, reflect.Float64:
		return f, true
	}
	return reflect.Value{}, false
}

func (s *Sweep) checkGridKey(el *errList, k string, byLabel map[string]*AlgorithmSpec) {
	checkGridValues(el, s.gridKey(k), s.Grid[k], byLabel)
}

// checkGridValues checks one grid key (of [sweep] or [select]) and its
// values; g locates it.
func checkGridValues(el *errList, g gridKey, vals []any, byLabel map[string]*AlgorithmSpec) {
	k := g.key
	if len(vals) == 0 {
		el.add(g.line, g.disp, "empty list of values")
		return
	}
	if rest, ok := strings.CutPrefix(k, "algorithm."); ok {
		label, param, ok := strings.Cut(rest, ".")
		switch {
		case !ok || param == "" || label == "":
			el.add(g.line, g.disp, "want algorithm.<label>.<parameter>")
		case byLabel[label] == nil:
			el.add(g.line, g.disp, "no [[algorithm]] is labelled %q (labels: %s)", label, strings.Join(sortedKeys(byLabel), ", "))
		case param == "name" || param == "label":
			el.add(g.line, g.disp, "an algorithm's %s cannot vary; add another [[algorithm]] table", param)
		}
		return // values are checked by the algorithm's factory in the dry run
	}
	var scratch Trial
	f, ok := trialField(&scratch, k)
	if !ok {
		el.add(g.line, g.disp, "not a grid key: use a scalar key of %s (e.g. train.lr, model.preset, task.name) or algorithm.<label>.<parameter>",
			strings.Join(trialSections, ", "))
		return
	}
	for i, v := range vals {
		fv := reflect.New(f.Type()).Elem()
		if r := assign(fv, v, true, func([]string, string) {}); r != "" {
			el.add(g.line, g.disp, "value %d: %s", i+1, r)
		}
	}
}

func (s *Sweep) checkReport(el *errList, byLabel map[string]*AlgorithmSpec) {
	r := s.Report
	labels := sortedKeys(byLabel)
	if r.Target != "" && byLabel[r.Target] == nil {
		el.add(s.line("report.target"), "report.target", "no [[algorithm]] is labelled %q (labels: %s)", r.Target, strings.Join(labels, ", "))
	}
	if r.Target == "" && s.set["report.target"] {
		el.add(s.line("report.target"), "report.target", "must not be empty")
	}
	target := r.Target
	if target == "" {
		target = s.defaultTarget()
	}
	seen := map[string]bool{}
	for _, b := range r.Baselines {
		switch {
		case byLabel[b] == nil:
			el.add(s.line("report.baselines"), "report.baselines", "no [[algorithm]] is labelled %q (labels: %s)", b, strings.Join(labels, ", "))
		case b == target:
			el.add(s.line("report.baselines"), "report.baselines", "%q is the target", b)
		case seen[b]:
			el.add(s.line("report.baselines"), "report.baselines", "%q is listed twice", b)
		}
		seen[b] = true
	}
	if r.Metric == "" && s.set["report.metric"] {
		el.add(s.line("report.metric"), "report.metric", "must not be empty")
	}
	if r.Metric != "" && !knownMetric(r.Metric) {
		el.add(s.line("report.metric"), "report.metric", "%q is not a metric the runner writes (%s, or m@kind)", r.Metric, strings.Join(ReportMetrics, ", "))
	}
	for _, m := range r.Metrics {
		if m != "" && !knownMetric(m) {
			el.add(s.line("report.metrics"), "report.metrics", "%q is not a metric the runner writes (%s, or m@kind)", m, strings.Join(ReportMetrics, ", "))
		}
	}
	if r.Metrics != nil && len(r.Metrics) == 0 || slices.Contains(r.Metrics, "") {
		el.add(s.line("report.metrics"), "report.metrics", "must list at least one metric, none empty")
	}
	seen = map[string]bool{}
	for _, m := range r.Metrics {
		if seen[m] {
			el.add(s.line("report.metrics"), "report.metrics", "%q is listed twice", m)
		}
		seen[m] = true
	}
}
