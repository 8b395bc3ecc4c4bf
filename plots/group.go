package plots

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/grao-lab/grao/algorithms"
)

// cell is one task × model combination: the unit of most figures.
type cell struct{ Task, Model string }

func (c cell) String() string { return c.Task + " / " + c.Model }

// config is one algorithm label at one hyper-parameter setting in one
// cell: the trials that differ only by seed.
type config struct {
	cell
	Label  string
	Params map[string]string
	Trials []*trial // ascending seed
}

func (c *config) paramKey() string { return paramKey(c.Params) }

func paramKey(p map[string]string) string {
	ks := make([]string, 0, len(p))
	for k := range p {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b strings.Builder
	for _, k := range ks {
		fmt.Fprintf(&b, "%s=%s;", k, p[k])
	}
	return b.String()
}

// groups indexes the configs of a sweep.
type groups struct {
	Cells  []cell
	Labels map[cell][]string             // ordered: paper order, then ablations after their base
	Confs  map[cell]map[string][]*config // by label, in order of appearance
}

func group(sd *sweepData) *groups {
	g := &groups{Labels: map[cell][]string{}, Confs: map[cell]map[string][]*config{}}
	for _, t := range sd.Trials {
		if t.Label == "" {
			continue
		}
		c := cell{t.Task, t.Model}
		m, ok := g.Confs[c]
		if !ok {
			m = map[string][]*config{}
			g.Confs[c] = m
			g.Cells = append(g.Cells, c)
		}
		if _, ok := m[t.Label]; !ok {
			g.Labels[c] = append(g.Labels[c], t.Label)
		}
		k := paramKey(t.Params)
		var cf *config
		for _, x := range m[t.Label] {
			if x.paramKey() == k {
				cf = x
			}
		}
		if cf == nil {
			cf = &config{cell: c, Label: t.Label, Params: t.Params}
			m[t.Label] = append(m[t.Label], cf)
		}
		cf.Trials = append(cf.Trials, t)
	}
	for c, ls := range g.Labels {
		sortLabels(ls)
		for _, cfs := range g.Confs[c] {
			for _, cf := range cfs {
				sort.SliceStable(cf.Trials, func(i, j int) bool { return cf.Trials[i].Seed < cf.Trials[j].Seed })
			}
		}
	}
	return g
}

// ablationOrder is the order of GRAO's loss terms in the paper's Table 3
// (the loss-anatomy figure draws them in it).
var ablationOrder = []string{"imitation", "exploration", "regularizer"}

func rank(s string, order []string) int {
	for i, o := range order {
		if s == o {
			return i
		}
	}
	return len(order)
}

func sortLabels(ls []string) {
	// the registered order of the method, the method before its
	// ablations, then the ablations' registered order
	key := func(l string) (int, string, int, string) {
		base, part, abl := splitAblation(l)
		if !abl {
			return algorithms.Rank(base), base, -1, ""
		}
		return algorithms.Rank(base), base, algorithms.Rank(l), part
	}
	sort.SliceStable(ls, func(i, j int) bool {
		a1, a2, a3, a4 := key(ls[i])
		b1, b2, b3, b4 := key(ls[j])
		switch {
		case a1 != b1:
			return a1 < b1
		case a2 != b2:
			return a2 < b2
		case a3 != b3:
			return a3 < b3
		}
		return a4 < b4
	})
}

// display picks the one configuration of a label that curves, bars and
// box plots show when the sweep varies that label's hyper-parameters. The
// rule never looks at results (picking the best cell would flatter the
// method): for each varying key take the lower median of its values, i.e.
// the centre of the grid, and use the configuration closest to that point.
// note says what was chosen, or is "" when there was nothing to choose.
func display(cfs []*config) (cf *config, note string) {
	if len(cfs) == 1 {
		return cfs[0], ""
	}
	keys := map[string][]string{}
	for _, c := range cfs {
		for k, v := range c.Params {
			if !contains(keys[k], v) {
				keys[k] = append(keys[k], v)
			}
		}
	}
	var varying []string
	centre := map[string]int{}
	for k, vs := range keys {
		if len(vs) < 2 {
			continue
		}
		sortValues(vs)
		varying = append(varying, k)
		centre[k] = (len(vs) - 1) / 2
	}
	sort.Strings(varying)
	best, bestD := 0, int(^uint(0)>>1)
	for i, c := range cfs {
		d := 0
		for _, k := range varying {
			r := indexOf(keys[k], c.Params[k])
			if r < 0 {
				r = len(keys[k]) // a config without the key is far from the centre
			}
			d += abs(r - centre[k])
		}
		if d < bestD {
			best, bestD = i, d
		}
	}
	cf = cfs[best]
	var kv []string
	for _, k := range varying {
		kv = append(kv, shortKey(k)+"="+cf.Params[k])
	}
	return cf, fmt.Sprintf("%s has %d hyper-parameter settings in %s; curves, bars and box plots show the grid centre %s (chosen without looking at results)",
		displayName(cf.Label), len(cfs), cf.cell, strings.Join(kv, ", "))
}

// sortValues orders values numerically when they all parse, else as text.
func sortValues(vs []string) {
	sort.SliceStable(vs, func(i, j int) bool {
		a, ea := strconv.ParseFloat(vs[i], 64)
		b, eb := strconv.ParseFloat(vs[j], 64)
		if ea == nil && eb == nil {
			return a < b
		}
		return vs[i] < vs[j]
	})
}

func contains(ss []string, s string) bool { return indexOf(ss, s) >= 0 }

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// shortKey is the last dotted segment of a hyper-parameter key
// ("algorithm.grao.beta" ⇒ "beta").
func shortKey(k string) string { return k[strings.LastIndex(k, ".")+1:] }

// displayName writes a label under its algorithm's registered display
// name ("grao-no-imitation" ⇒ "GRAO w/o imitation", "drgrpo" ⇒
// "Dr. GRPO"); other labels are kept.
func displayName(label string) string {
	base, part, abl := splitAblation(label)
	// A random-reward control arm is named after its method, as the
	// report names it ("GRPO-random").
	if parent, ok := strings.CutSuffix(base, "-random"); ok && !abl && algorithms.Known(parent) {
		return algorithms.DisplayName(parent) + "-random"
	}
	if abl {
		return algorithms.DisplayName(base) + " w/o " + part
	}
	return algorithms.DisplayName(base)
}
