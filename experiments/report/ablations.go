package report

import (
	"sort"
	"strings"
)

func (r *Report) buildAblations(tasks, models []string, infos map[string]labelInfo, get func(task, model, label, metric string) *Cell) {
	// Base algorithm → full label and ablated labels by part.
	type fam struct {
		full  string
		parts map[string]string
	}
	fams := map[string]*fam{}
	for l, li := range infos {
		if li.ablation == "" {
			continue
		}
		f := fams[strings.ToLower(li.base)]
		if f == nil {
			f = &fam{parts: map[string]string{}}
			fams[strings.ToLower(li.base)] = f
		}
		f.parts[li.ablation] = l
	}
	var bases []string
	for b, f := range fams {
		for l, li := range infos {
			if li.ablation == "" && strings.EqualFold(l, b) {
				f.full = l
			}
		}
		bases = append(bases, b)
	}
	sort.Strings(bases)
	for _, b := range bases {
		f := fams[b]
		if f.full == "" {
			r.note("ablation variants of %s found but no full %s runs: no ablation table", b, b)
			continue
		}
		parts := make([]string, 0, len(f.parts))
		for p := range f.parts {
			parts = append(parts, p)
		}
		sort.Slice(parts, func(i, j int) bool {
			ri, rj := rank(parts[i], ablationOrder), rank(parts[j], ablationOrder)
			if ri != rj {
				return ri < rj
			}
			return parts[i] < parts[j]
		})
		metric := r.Opts.AblationMetric
		has := func(m string) bool {
			for _, task := range tasks {
				for _, model := range models {
					for _, l := range f.parts {
						if get(task, model, l, m) != nil {
							return true
						}
					}
				}
			}
			return false
		}
		if !has(metric) {
			if has(r.Opts.Metric) {
				r.note("ablation of %s: no %s rows, using %s", b, metric, r.Opts.Metric)
				metric = r.Opts.Metric
			} else {
				r.note("ablation of %s: neither %s nor %s rows", b, metric, r.Opts.Metric)
				continue
			}
		}
		for _, task := range tasks {
			a := Ablation{Task: task, Algorithm: f.full, Metric: metric, Parts: parts}
			for _, model := range models {
				full := get(task, model, f.full, metric)
				row := make([]*Cell, len(parts))
				any := false
				for j, p := range parts {
					row[j] = get(task, model, f.parts[p], metric)
					any = any || row[j] != nil
				}
				if !any {
					continue
				}
				a.Models = append(a.Models, model)
				a.Full = append(a.Full, full)
				a.Cells = append(a.Cells, row)
			}
			if len(a.Models) == 0 {
				continue
			}
			for j, p := range parts {
				var drops []float64
				for i, model := range a.Models {
					full, c := a.Full[i], a.Cells[i][j]
					switch {
					case full == nil || c == nil:
						r.note("ablation %s / %s / no-%s: missing cell, excluded from Δ", task, model, p)
					case full.Mean <= 0:
						r.note("ablation %s / %s / no-%s: full %s mean %s ≤ 0, excluded from Δ", task, model, p, metric, fmtG(full.Mean))
					default:
						drops = append(drops, (full.Mean-c.Mean)/full.Mean)
					}
				}
				a.Delta = append(a.Delta, meanOrNaN(drops))
				a.DeltaN = append(a.DeltaN, len(drops))
			}
			r.Ablations = append(r.Ablations, a)
		}
	}
}
