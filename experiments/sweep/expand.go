package sweep

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/grao-lab/grao/algorithms"
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
	ctx.files(&t, ex)
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
