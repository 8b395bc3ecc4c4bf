package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/experiments/tasks"
	"github.com/grao-lab/grao/rewards"
)

// Expand returns the sweep's trials, fully resolved and validated: the
// algorithms in file order, for each the grid points that apply to it
// (grid keys sorted, the first key changing slowest, values in file
// order), for each point the seeds as given. A key algorithm.<label>.<p>
// multiplies only the algorithm with that label. It returns every problem
// found instead (joined *Error values); after a successful Parse there is
// none, unless files changed in between.
func (s *Sweep) Expand() ([]Trial, error) {
	el := &errList{file: s.fileName()}
	if _, ok := s.check(el); !ok || el.err() != nil {
		return nil, el.err()
	}
	if err := el.err(); err != nil {
		return nil, err
	}
	trials := s.expand(el, s.Seeds, skipped{})
	if err := el.err(); err != nil {
		return nil, err
	}
	s.checkMemory(trials, el)
	if err := el.err(); err != nil {
		return nil, err
	}
	return trials, nil
}

func (s *Sweep) fileName() string {
	if s.file == "" {
		return "<sweep>"
	}
	return s.file
}

// validate is Parse's check: the sweep-level rules, then a dry run of the
// expansion with the first seed (seeds change nothing that is validated).
// Algorithms and grid keys that check rejected are left out of the dry
// run, so that one bad key does not hide the problems of the rest.
func (s *Sweep) validate(el *errList) {
	sk, ok := s.check(el)
	if !ok {
		return // too large to expand
	}
	seeds := s.Seeds
	if len(seeds) == 0 {
		seeds = []uint64{0} // reported already; still check the rest
	}
	s.expand(el, seeds[:1], sk)
	// Every [select] point too (on the dev split), once the rest is clean.
	if s.HasSelection() && el.err() == nil {
		s.expandWith(el, sk, func(a *AlgorithmSpec, _ []assignment) ([][]assignment, []uint64, bool) {
			if !a.selects() {
				return nil, nil, false
			}
			return s.selectPoints(a.label()), seeds[:1], true
		})
	}
}

// skipped names what check rejected.
type skipped struct {
	alg  map[int]bool
	grid map[string]bool
}

func (s *Sweep) name() string {
	if s.Name != "" || s.file == "" {
		return s.Name
	}
	return strings.TrimSuffix(filepath.Base(s.file), filepath.Ext(s.file))
}

// line finds a top-level display key such as "seeds" or "model.label".
func (s *Sweep) line(key string) int { return s.loc.lineOf(locSegs(key)...) }

// locSegs turns a display key ("reward.part[2].path") into locator segments.
func locSegs(key string) []string {
	var out []string
	for _, p := range strings.Split(key, ".") {
		name, idx, ok := strings.Cut(p, "[")
		out = append(out, name)
		if ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			out = append(out, indexSeg(n-1))
		}
	}
	return out
}

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

// assignment is one grid key's value in one grid point.
type assignment struct {
	g        gridKey
	value    any
	param    string // for algorithm.<label>.<param>: the parameter
	many     bool   // the key has more than one value (it varies)
	selected bool   // a [select] key (recorded in Trial.Selected)
}

func (s *Sweep) expand(el *errList, seeds []uint64, sk skipped) []Trial {
	return s.expandWith(el, sk, func(*AlgorithmSpec, []assignment) ([][]assignment, []uint64, bool) {
		return [][]assignment{nil}, seeds, false
	})
}

// extraFn gives, for an algorithm and one point of the main grid, the
// sets of extra assignments to make trials of (one trial per set and
// seed), the seeds to run them with, and whether they are selection
// trials (evaluated on the dev split).
type extraFn func(a *AlgorithmSpec, point []assignment) (extra [][]assignment, seeds []uint64, selection bool)

// expandWith is the expansion of the main grid, each point completed by
// extra assignments (selection points, or the values selection chose).
func (s *Sweep) expandWith(el *errList, sk skipped, extraFor extraFn) []Trial {
	base := s.raw
	if base == nil {
		base = s
	}
	c := &expander{s: s, base: base, el: el, files: map[string]fileInfo{}, fits: map[fitKey]string{}}
	var out []Trial
	for ai := range base.Algorithms {
		if sk.alg[ai] {
			continue
		}
		a := &base.Algorithms[ai]
		label := a.gridLabel()
		keys := applicableKeys(base.Grid, label, sk.grid)
		if a.control == ControlBase { // no training: only what the base model depends on
			keys = slices.DeleteFunc(keys, func(k string) bool {
				return strings.HasPrefix(k, "train.") || strings.HasPrefix(k, "algorithm.") || strings.HasPrefix(k, "reward.")
			})
		}
		// Odometer over the applicable keys; the last key changes fastest.
		odometer(base.Grid, keys, func(idx []int) {
			point := make([]assignment, len(keys))
			for i, k := range keys {
				as := assignment{g: s.gridKey(k), value: base.Grid[k][idx[i]], many: len(base.Grid[k]) > 1}
				if rest, ok := strings.CutPrefix(k, "algorithm."+label+"."); ok {
					as.param = rest
				}
				point[i] = as
			}
			extra, seeds, selection := extraFor(a, point)
			for _, ex := range extra {
				for _, seed := range seeds {
					if t, ok := c.trial(a, append(slices.Clone(point), ex...), seed, selection); ok {
						out = append(out, t)
					}
				}
			}
		})
	}
	return out
}

// applicableKeys are the sorted grid keys that apply to an algorithm: all
// but other algorithms' parameters, and but those skipped.
func applicableKeys(grid map[string][]any, label string, skip map[string]bool) []string {
	var keys []string
	for _, k := range sortedKeys(grid) {
		if skip[k] {
			continue
		}
		if rest, ok := strings.CutPrefix(k, "algorithm."); ok {
			if l, _, _ := strings.Cut(rest, "."); l != label {
				continue
			}
		}
		keys = append(keys, k)
	}
	return keys
}

// odometer calls f with every index combination over keys' values, the
// last key changing fastest (once, with none, for no keys).
func odometer(grid map[string][]any, keys []string, f func(idx []int)) {
	idx := make([]int, len(keys))
	for {
		f(idx)
		i := len(keys) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(grid[keys[i]]) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

type fileInfo struct {
	abs, sha string
	err      string
}

// expander builds trials; it caches file checks across grid points.
type expander struct {
	s, base *Sweep
	el      *errList
	files   map[string]fileInfo
	fits    map[fitKey]string
}

// tctx locates the keys of one trial for its error messages: a key set by
// the grid points at the grid line, any other at its line in the file.
type tctx struct {
	*expander
	a    *AlgorithmSpec
	grid map[string]gridKey
	ok   bool
}

func (c *tctx) fail(key, format string, args ...any) {
	c.ok = false
	if g, ok := c.grid[key]; ok {
		c.el.add(g.line, g.disp, format, args...)
		return
	}
	c.el.add(c.s.line(key), key, format, args...)
}

func (c *expander) trial(a *AlgorithmSpec, point []assignment, seed uint64, selection bool) (Trial, bool) {
	b := c.base
	t := Trial{
		Sweep:     c.s.name(),
		Seed:      seed,
		Algorithm: a.Name,
		Label:     a.label(),
		Params:    maps.Clone(a.Params),
		Model:     b.Model,
		Task:      cloneTask(b.Task),
		Pretrain:  b.Pretrain,
		Train:     b.Train,
		Eval:      b.Eval,
		Reward:    cloneReward(b.Reward),
		Calibrate: b.Calibrate,
	}
	if t.Params == nil {
		t.Params = map[string]any{}
	}
	t.Control, t.ControlOf = a.control, a.parent
	if a.control == ControlRandomReward {
		t.Reward = RewardSpec{Kind: RewardRandom}
	}
	ctx := &tctx{expander: c, a: a, grid: map[string]gridKey{}, ok: true}
	gridSet := map[string]bool{}
	if selection {
		t.Eval.Split = "dev"
		gridSet["eval.split"] = true
	}
	for _, as := range point {
		if as.param != "" {
			t.Params[as.param] = as.value
			ctx.grid["algorithm."+t.Label+"."+as.param] = as.g
		} else if f, ok := trialField(&t, as.g.key); ok {
			assign(f, as.value, true, func([]string, string) {}) // types checked by check
			gridSet[as.g.key] = true
			ctx.grid[as.g.key] = as.g
		}
		if as.selected {
			if t.Selected == nil {
				t.Selected = map[string]string{}
			}
			t.Selected[as.g.key] = formatValue(as.value)
		}
		if as.many {
			if t.Varying == nil {
				t.Varying = map[string]string{}
			}
			t.Varying[as.g.key] = formatValue(as.value)
		}
	}
	ex := c.s.explicit(gridSet)
	resolveModel(&t.Model, ex)
	resolveTask(&t.Task, ex)
	resolvePretrain(&t.Pretrain, ex)
	resolveTrain(&t.Train, ex)
	resolveEval(&t.Eval, ex)
	resolveReward(&t.Reward, ex)
	resolveCalibrate(&t.Calibrate, ex)
	ctx.validate(&t, ex)
	ctx.validateTask(&t, ex)
	ctx.files(&t)
	if p, err := fullParams(t.Algorithm, t.Params); err != nil {
		ctx.paramError(&t, err)
	} else {
		t.Params = p
		if alg, err := algorithms.New(t.Algorithm, p); err != nil {
			ctx.paramError(&t, err) // the factory's own checks, at validation time
		} else {
			n := alg.Needs()
			ctx.checkFit(&t, n.Reference || n.Pairs)
		}
	}
	if !ctx.ok {
		return Trial{}, false
	}
	t.ID = ComputeID(t)
	return t, true
}

var keyInMessage = regexp.MustCompile(`(?:field|key) "([^"]+)"`)

// paramError places an algorithm factory's error at the parameter it
// names (a quoted field or key, or a parameter's name as a word), else at
// the [[algorithm]] header.
func (c *tctx) paramError(t *Trial, err error) {
	msg := err.Error()
	key := ""
	if m := keyInMessage.FindStringSubmatch(msg); m != nil {
		key = m[1]
	} else {
		ks := sortedKeys(t.Params)
		slices.SortStableFunc(ks, func(x, y string) int { return len(y) - len(x) })
		for _, k := range ks {
			if regexp.MustCompile(`\b` + regexp.QuoteMeta(k) + `\b`).MatchString(msg) {
				key = k
				break
			}
		}
	}
	if strings.Contains(msg, "unknown field") && key != "" {
		if defaults, err := fullParams(t.Algorithm, nil); err == nil {
			msg += didYouMean(key, sortedKeys(defaults))
		}
	}
	c.ok = false
	disp := c.a.disp()
	if key == "" {
		c.el.add(c.a.line, disp, "%s", msg)
		return
	}
	if g, ok := c.grid[disp+"."+key]; ok {
		c.el.add(g.line, g.disp, "%s", msg)
		return
	}
	c.el.add(c.a.paramLine(key), disp+"."+key, "%s", msg)
}

// formatValue renders a grid value for Varying (results.csv columns).
func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return fmt.Sprint(v)
}

var schedules = []string{"constant", "cosine"}

// RewardRandom is the reward kind of a random-reward control: ±1 with
// probability ½ each, drawn from the trial's seed.
const RewardRandom = "random"

// standaloneKinds are the reward kinds [reward] kind = … may name: the
// registered kinds without keys of their own, and combine.
func standaloneKinds() []string {
	var out []string
	for _, n := range rewards.Kinds() {
		if k, _ := rewards.Lookup(n); len(k.Keys) == 0 {
			out = append(out, n)
		}
	}
	return append(out, "combine")
}

// partKinds are the registered kinds a [[reward.part]] may name.
func partKinds() []string {
	var out []string
	for _, n := range rewards.Kinds() {
		if k, _ := rewards.Lookup(n); !k.Alone {
			out = append(out, n)
		}
	}
	return out
}

// partKeys are the keys of a reward part a kind may own (every other
// rewards.Spec key is the part's own: kind, weight).
var partKeys = []string{"path", "args", "sha256", "timeout", "target", "per_byte", "max", "params"}

// partKeySet reports whether a part's key holds a value: written in the
// file, or non-zero (a sweep built in Go).
func partKeySet(pt RewardPart, key string, written bool) bool {
	if written {
		return true
	}
	switch key {
	case "path":
		return pt.Path != ""
	case "args":
		return len(pt.Args) > 0
	case "sha256":
		return pt.SHA256 != ""
	case "params":
		return len(pt.Params) > 0
	}
	return false
}

// validate checks the ranges of a resolved trial. ex tells explicit keys
// from defaults where a zero means "unset".
func (c *tctx) validate(t *Trial, ex explicitFn) {
	m := t.Model
	if _, err := model.Preset(m.Preset); err != nil {
		c.fail("model.preset", "unknown model preset %q%s (have %s)", m.Preset, didYouMean(m.Preset, model.Presets()), strings.Join(model.Presets(), ", "))
	} else {
		for _, f := range []struct {
			key string
			v   int
		}{{"model.d_model", m.DModel}, {"model.n_layer", m.NLayer}, {"model.n_head", m.NHead}, {"model.context", m.Context}} {
			if f.v < 1 {
				c.fail(f.key, "must be ≥ 1, got %d", f.v)
			}
		}
		if m.NHead >= 1 && m.DModel >= 1 && m.DModel%m.NHead != 0 {
			key := "model.n_head"
			if !ex(key) && ex("model.d_model") {
				key = "model.d_model"
			}
			c.fail(key, "n_head = %d must divide d_model = %d", m.NHead, m.DModel)
		}
		if m.Context >= 1 && m.Context < 2 {
			c.fail("model.context", "must be ≥ 2, got %d", m.Context)
		}
	}
	if (m.Label != "" || ex("model.label")) && !labelRE.MatchString(m.Label) { // "" only after a bad preset, reported above
		c.fail("model.label", "%q must be letters, digits, '_' or '-'", m.Label)
	}

	tk := t.Task
	nonNeg := func(key string, v int, explicitMin int) {
		switch {
		case v < 0:
			c.fail(key, "must be ≥ 0, got %d", v)
		case v < explicitMin && ex(key):
			c.fail(key, "must be ≥ %d, got %d (omit the key for the default)", explicitMin, v)
		}
	}
	nonNeg("task.train_size", tk.TrainSize, 1)
	nonNeg("task.eval_size", tk.EvalSize, 1)
	// tasks.WithSizes sets both at once, and JSONL datasets are split by
	// fraction, not size.
	if builtin := slices.Contains(tasks.Names(), tk.Name); !builtin {
		for _, k := range []string{"task.train_size", "task.eval_size"} {
			if ex(k) || (k == "task.train_size" && tk.TrainSize != 0) || (k == "task.eval_size" && tk.EvalSize != 0) {
				c.fail(k, "applies to built-in tasks only (a JSONL dataset is split 90/10)")
			}
		}
	} else if (tk.TrainSize == 0) != (tk.EvalSize == 0) {
		key := "task.eval_size"
		if tk.TrainSize == 0 {
			key = "task.train_size"
		}
		c.fail(key, "train_size and eval_size go together: give both or neither")
	}
	if tk.TieMargin < 0 {
		c.fail("task.tie_margin", "must be ≥ 0, got %g", tk.TieMargin)
	}
	if tk.Name == "arith" {
		if tk.Digits < 1 || tk.Digits > 4 {
			c.fail("task.digits", "must be 1–4, got %d", tk.Digits)
		}
	} else if tk.Digits != 0 || ex("task.digits") {
		c.fail("task.digits", "applies to the arith task only")
	}

	p := t.Pretrain
	nonNeg("pretrain.steps", p.Steps, 0)
	if p.Batch < 1 {
		c.fail("pretrain.batch", "must be ≥ 1, got %d", p.Batch)
	}
	if !(p.LR > 0) {
		c.fail("pretrain.lr", "must be > 0, got %g", p.LR)
	}
	nonNeg("pretrain.warmup", p.Warmup, 0)

	tr := t.Train
	atLeast1 := func(key string, v int) {
		if v < 1 {
			c.fail(key, "must be ≥ 1, got %d", v)
		}
	}
	atLeast1("train.steps", tr.Steps)
	atLeast1("train.prompts", tr.Prompts)
	if !(tr.LR > 0) {
		c.fail("train.lr", "must be > 0, got %g", tr.LR)
	}
	nonNeg("train.warmup", tr.Warmup, 0)
	if !slices.Contains(schedules, tr.Schedule) {
		c.fail("train.schedule", "%q: want %s", tr.Schedule, strings.Join(schedules, " or "))
	}
	if tr.WeightDecay < 0 {
		c.fail("train.weight_decay", "must be ≥ 0, got %g", tr.WeightDecay)
	}
	if tr.ClipNorm < 0 {
		c.fail("train.clip_norm", "must be ≥ 0 (0: no clipping), got %g", tr.ClipNorm)
	}
	if tr.Temperature < 0 {
		c.fail("train.temperature", "must be ≥ 0 (0: greedy), got %g", tr.Temperature)
	}
	nonNeg("train.top_k", tr.TopK, 0)
	if tr.TopP < 0 || tr.TopP > 1 {
		c.fail("train.top_p", "must be in [0, 1], got %g", tr.TopP)
	}
	atLeast1("train.max_new_tokens", tr.MaxNew)
	atLeast1("train.eval_every", tr.EvalEvery)
	if tr.CheckpointEvery != 0 {
		// Resume redoes an unfinished trial from its start (trials are
		// deterministic); mid-trial checkpoints are not implemented yet.
		c.fail("train.checkpoint_every", "mid-trial checkpoints are not supported yet: must be 0 (resume redoes an unfinished trial from its start, with identical results)")
	}
	if m.Context >= 2 && tr.MaxNew >= m.Context {
		c.fail("train.max_new_tokens", "%d leaves no room for the prompt in a context of %d (model.context)", tr.MaxNew, m.Context)
	}

	e := t.Eval
	if e.Prompts < 0 || (e.Prompts == 0 && ex("eval.prompts")) {
		c.fail("eval.prompts", "must be ≥ 1 (omit the key for every prompt of the split), got %d", e.Prompts)
	}
	if e.Temperature < 0 {
		c.fail("eval.temperature", "must be ≥ 0 (0: greedy), got %g", e.Temperature)
	}
	atLeast1("eval.max_new_tokens", e.MaxNew)
	if m.Context >= 2 && e.MaxNew >= m.Context {
		c.fail("eval.max_new_tokens", "%d leaves no room for the prompt in a context of %d (model.context)", e.MaxNew, m.Context)
	}
	if tk.EvalSize > 0 && e.Prompts > tk.EvalSize {
		c.fail("eval.prompts", "%d exceeds task.eval_size = %d", e.Prompts, tk.EvalSize)
	}

	r := t.Reward
	if kinds := standaloneKinds(); !slices.Contains(kinds, r.Kind) {
		c.fail("reward.kind", "%q%s: want %s (other kinds are parts of kind = \"combine\")", r.Kind, didYouMean(r.Kind, kinds), strings.Join(kinds, ", "))
	}
	if r.Kind == "combine" && len(r.Parts) == 0 {
		c.fail("reward.kind", "combine needs at least one [[reward.part]]")
	}
	if r.Kind != "combine" && len(r.Parts) > 0 {
		c.fail("reward.part", "parts are only used with reward.kind = \"combine\" (kind is %q)", r.Kind)
	}
	for i, pt := range r.Parts {
		k := fmt.Sprintf("reward.part[%d].", i+1)
		kind, ok := rewards.Lookup(pt.Kind)
		if !ok {
			c.fail(k+"kind", "%q%s: want %s", pt.Kind, didYouMean(pt.Kind, partKinds()), strings.Join(partKinds(), ", "))
			continue
		}
		if kind.Alone {
			c.fail(k+"kind", "%q stands alone ([reward] kind = %q), never as a part", pt.Kind, pt.Kind)
			continue
		}
		// A key the kind does not own must not be set.
		for _, key := range partKeys {
			if slices.Contains(kind.Keys, key) || !partKeySet(pt, key, ex(k+key)) {
				continue
			}
			if key == "timeout" && !ex(k+key) {
				continue // a default another kind filled in
			}
			if owners := rewards.Readers(key); len(owners) > 0 {
				c.fail(k+key, "applies to kind = %q parts only", strings.Join(owners, `" and "`))
			} else {
				c.fail(k+key, "no registered kind reads it")
			}
		}
		if kind.Check != nil {
			for _, fe := range kind.Check(pt, func(key string) bool { return ex(k + key) }) {
				c.fail(k+fe.Key, "%s", fe.Reason)
			}
		}
	}
}

// files resolves and checks the files a trial reads: a JSONL dataset, a
// base checkpoint, plugin executables.
func (c *tctx) files(t *Trial) {
	if t.Task.Name == "" {
		c.fail("task.name", "required: a built-in task (%s) or a .jsonl dataset path", strings.Join(tasks.Names(), ", "))
	} else if !slices.Contains(tasks.Names(), t.Task.Name) {
		fi := c.file(t.Task.Name, "dataset", func(abs string) string {
			if _, err := tasks.FromJSONL(abs, 1, 0.1); err != nil {
				return err.Error()
			}
			return ""
		})
		if fi.err != "" {
			c.fail("task.name", "%s", fi.err)
		} else {
			t.Task.Path, t.Task.SHA256 = fi.abs, fi.sha
		}
	}
	if cp := t.Pretrain.Checkpoint; cp != "" {
		p := c.rel(cp)
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			c.fail("pretrain.checkpoint", "%q is not a directory (resolved to %s)", cp, p)
		} else if abs, err := filepath.Abs(p); err == nil {
			t.Pretrain.Checkpoint = abs
		}
	}
	for i := range t.Reward.Parts {
		pt := &t.Reward.Parts[i]
		k := fmt.Sprintf("reward.part[%d].", i+1)
		kind, _ := rewards.Lookup(pt.Kind)
		if kind.Path == "dir" && pt.Path != "" {
			p := c.rel(pt.Path)
			if st, err := os.Stat(p); err != nil || !st.IsDir() {
				c.fail(k+"path", "%q is not a checkpoint directory (resolved to %s)", pt.Path, p)
			} else if abs, err := filepath.Abs(p); err == nil {
				pt.Path = abs
			}
			continue
		}
		if kind.Path != "executable" || pt.Path == "" {
			continue
		}
		path := pt.Path
		if !strings.ContainsRune(path, filepath.Separator) && !strings.ContainsRune(path, '/') {
			if _, err := os.Stat(c.rel(path)); err != nil {
				if lp, err := exec.LookPath(path); err == nil {
					path = lp
				}
			}
		}
		fi := c.file(path, "plugin", func(abs string) string {
			st, _ := os.Stat(abs)
			if st.Mode().Perm()&0o111 == 0 {
				return fmt.Sprintf("%s is not executable (chmod +x)", abs)
			}
			return ""
		})
		if fi.err != "" {
			c.fail(k+"path", "%s", fi.err)
			continue
		}
		if pt.SHA256 != "" && !strings.EqualFold(pt.SHA256, fi.sha) {
			c.fail(k+"sha256", "does not match %s (its sha256 is %s)", fi.abs, fi.sha)
			continue
		}
		pt.Path, pt.SHA256 = fi.abs, fi.sha
	}
}

func (c *expander) rel(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.s.dir, p)
}

// file checks that name (relative to the sweep file) is a regular file,
// hashes it and runs extra once per file.
func (c *expander) file(name, what string, extra func(abs string) string) fileInfo {
	p := c.rel(name)
	if fi, ok := c.files[p]; ok {
		return fi
	}
	fi := fileInfo{}
	defer func() { c.files[p] = fi }()
	abs, err := filepath.Abs(p)
	if err != nil {
		fi.err = err.Error()
		return fi
	}
	st, err := os.Stat(abs)
	switch {
	case err != nil && what == "dataset":
		fi.err = fmt.Sprintf("%q is neither a built-in task (%s) nor an existing dataset file (looked for %s)", name, strings.Join(tasks.Names(), ", "), abs)
		return fi
	case err != nil:
		fi.err = fmt.Sprintf("%s %q not found (looked for %s)", what, name, abs)
		return fi
	case st.IsDir():
		fi.err = fmt.Sprintf("%s %q is a directory", what, abs)
		return fi
	}
	if fi.err = extra(abs); fi.err != "" {
		return fi
	}
	f, err := os.Open(abs)
	if err != nil {
		fi.err = errReason(err)
		return fi
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		fi.err = err.Error()
		return fi
	}
	fi.abs, fi.sha = abs, hex.EncodeToString(h.Sum(nil))
	return fi
}
