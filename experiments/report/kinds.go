package report

import (
	"slices"
	"sort"
	"strings"
)

// buildKindTables makes a table per task × model × kind metric from the
// "metric@group" rows.
func (r *Report) buildKindTables(tasks, models, cols, metrics []string, get func(task, model, label, metric string) *Cell) {
	for _, task := range tasks {
		for _, model := range models {
			for _, km := range r.Opts.KindMetrics {
				if kt, ok := kindTable(task, model, km, cols, metrics, get); ok {
					r.KindTables = append(r.KindTables, kt)
				}
			}
		}
	}
}

// kindTable is one task × model's table of kind metric km, groups ordered
// regimes first, then as found; false when no group has data.
func kindTable(task, model, km string, cols, metrics []string, get func(task, model, label, metric string) *Cell) (KindTable, bool) {
	var groups []string
	for _, m := range metrics {
		if base, g, ok := strings.Cut(m, "@"); ok && strings.EqualFold(base, km) && !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	sort.SliceStable(groups, func(i, j int) bool { return rank(groups[i], regimeOrder) < rank(groups[j], regimeOrder) })
	kt := KindTable{Task: task, Model: model, Metric: km}
	used := map[string]bool{}
	for _, g := range groups {
		row := make([]*Cell, len(cols))
		found := false
		for j, l := range cols {
			if c := get(task, model, l, km+"@"+g); c != nil {
				row[j], found, used[l] = c, true, true
			}
		}
		if found {
			kt.Kinds = append(kt.Kinds, g)
			kt.Cells = append(kt.Cells, row)
		}
	}
	if len(kt.Kinds) == 0 {
		return kt, false
	}
	var keep []int
	kt.Algorithms, keep = usedColumns(cols, used)
	for i := range kt.Cells {
		kt.Cells[i] = pickCells(kt.Cells[i], keep)
	}
	return kt, true
}

// usedColumns returns the labels of cols that hold data and their indexes.
func usedColumns(cols []string, used map[string]bool) (labels []string, keep []int) {
	for j, l := range cols {
		if used[l] {
			keep = append(keep, j)
			labels = append(labels, l)
		}
	}
	return labels, keep
}

// pickCells narrows a row to the kept columns.
func pickCells(cells []*Cell, keep []int) []*Cell {
	var cs []*Cell
	for _, j := range keep {
		cs = append(cs, cells[j])
	}
	return cs
}

// regimeOrder puts the regimes before the kinds in per-kind tables.
var regimeOrder = []string{"explore", "imitate"}
