package report

import (
	"sort"
	"strconv"
	"strings"

	"github.com/grao-lab/grao/algorithms"
)

// labelRows names each row's column: the algorithm (with "-no-<part>" for
// ablations) plus, in parentheses, the hyper-parameter columns that vary
// among that algorithm's rows within the same task × model. Constant
// columns stay out of the label so the common case reads "grao".
func labelRows(res *Results) []labelInfo {
	short := shortParamNames(res.Params)
	type gk struct{ task, model, alg, abl string }
	varying := map[gk][]bool{}
	first := map[gk][]string{}
	for _, r := range res.Rows {
		k := gk{r.Task, r.Model, r.Algorithm, r.Ablation}
		f, ok := first[k]
		if !ok {
			first[k] = r.Params
			varying[k] = make([]bool, len(r.Params))
			continue
		}
		for i, v := range r.Params {
			if v != f[i] {
				varying[k][i] = true
			}
		}
	}
	out := make([]labelInfo, len(res.Rows))
	for i, r := range res.Rows {
		k := gk{r.Task, r.Model, r.Algorithm, r.Ablation}
		l := r.Algorithm
		if r.Ablation != "" {
			l += "-no-" + r.Ablation
		}
		var kv []string
		for j, v := range varying[k] {
			if v {
				kv = append(kv, short[j]+"="+r.Params[j])
			}
		}
		if len(kv) > 0 {
			l += " (" + strings.Join(kv, ", ") + ")"
		}
		out[i] = labelInfo{label: l, base: r.Algorithm, ablation: r.Ablation}
	}
	return out
}

// shortParamNames uses the last dotted segment of a column
// ("algorithm.grao.beta" ⇒ "beta") when that is unambiguous.
func shortParamNames(params []string) []string {
	count := map[string]int{}
	last := make([]string, len(params))
	for i, p := range params {
		last[i] = p[strings.LastIndex(p, ".")+1:]
		count[last[i]]++
	}
	for i, p := range params {
		if count[last[i]] > 1 || last[i] == "" {
			last[i] = p
		}
	}
	return last
}

func sortBySeed(c *Cell) {
	idx := make([]int, len(c.Seeds))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return c.Seeds[idx[i]] < c.Seeds[idx[j]] })
	s, v := make([]int64, len(idx)), make([]float64, len(idx))
	for i, j := range idx {
		s[i], v[i] = c.Seeds[j], c.Values[j]
	}
	c.Seeds, c.Values = s, v
}

func firstAppearance(res *Results, f func(Row) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range res.Rows {
		if v := f(r); !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func orderMetrics(res *Results) []string {
	ms := firstAppearance(res, func(r Row) string { return r.Metric })
	sort.SliceStable(ms, func(i, j int) bool { return rank(ms[i], metricOrder) < rank(ms[j], metricOrder) })
	return ms
}

// rank is the position of s (case-insensitive) in order, or len(order).
func rank(s string, order []string) int {
	for i, o := range order {
		if strings.EqualFold(s, o) {
			return i
		}
	}
	return len(order)
}

func sortLabels(ls []string, infos map[string]labelInfo) {
	sort.Slice(ls, func(i, j int) bool {
		a, b := infos[ls[i]], infos[ls[j]]
		// the registered order (the paper's for its methods), then by name
		ra, rb := algorithms.Rank(strings.ToLower(a.base)), algorithms.Rank(strings.ToLower(b.base))
		if ra != rb {
			return ra < rb
		}
		if !strings.EqualFold(a.base, b.base) {
			return strings.ToLower(a.base) < strings.ToLower(b.base)
		}
		return ls[i] < ls[j]
	})
}

// findFold finds name in list, exactly or else case-insensitively.
func findFold(list []string, name string) (string, bool) {
	for _, l := range list {
		if l == name {
			return l, true
		}
	}
	for _, l := range list {
		if strings.EqualFold(l, name) {
			return l, true
		}
	}
	return "", false
}

// displayName writes a label's algorithm under its registered display
// name ("grao" ⇒ "GRAO", "grao (beta=0.3)" ⇒ "GRAO (beta=0.3)",
// "drgrpo-random" ⇒ "Dr. GRPO-random"); other labels are kept.
func displayName(label string) string {
	head, rest := label, ""
	if i := strings.IndexAny(label, " -"); i >= 0 {
		head, rest = label[:i], label[i:]
	}
	if h := strings.ToLower(head); algorithms.Known(h) {
		return algorithms.DisplayName(h) + rest
	}
	return label
}

func fmtG(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }

// Algorithms lists the column labels present in res (ablations included).
func (res *Results) Algorithms() []string {
	ls := labelRows(res)
	infos := map[string]labelInfo{}
	var out []string
	for _, l := range ls {
		if _, ok := infos[l.label]; !ok {
			infos[l.label] = l
			out = append(out, l.label)
		}
	}
	sortLabels(out, infos)
	return out
}

// Columns lists the main-table column labels of res: its algorithms
// without the ablation variants (which have a table of their own).
func (res *Results) Columns() []string {
	ls := labelRows(res)
	infos := map[string]labelInfo{}
	var out []string
	for _, l := range ls {
		if _, ok := infos[l.label]; !ok && l.ablation == "" {
			infos[l.label] = l
			out = append(out, l.label)
		}
	}
	sortLabels(out, infos)
	return out
}

// Metrics lists the metric names present in res, in canonical order.
func (res *Results) Metrics() []string { return orderMetrics(res) }
