package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Format is an output format of Render.
type Format string

const (
	Markdown Format = "md"
	LaTeX    Format = "tex"
	CSV      Format = "csv"
)

// ParseFormat accepts md|markdown, tex|latex, csv.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "md", "markdown":
		return Markdown, nil
	case "tex", "latex":
		return LaTeX, nil
	case "csv":
		return CSV, nil
	}
	return "", fmt.Errorf("unknown format %q (want md, tex or csv)", s)
}

// Render writes the report in the given format.
func (r *Report) Render(w io.Writer, f Format) error {
	switch f {
	case Markdown:
		return r.markdown(w)
	case LaTeX:
		return r.latex(w)
	case CSV:
		return r.csv(w)
	}
	return fmt.Errorf("unknown format %q", f)
}

// grid is one rendered table, shared by the Markdown and LaTeX writers.
type grid struct {
	title   string
	caption string
	header  []string
	right   []bool // right-align column
	rows    [][]string
	rule    []bool // horizontal rule before row i (LaTeX \midrule, Markdown nothing)
}

const dash = "—"

// Method describes how cells and tests were computed, in one paragraph.
func (r *Report) Method() string {
	var b strings.Builder
	b.WriteString("Cells: mean over seeds ± half-width of the 95% interval (")
	if r.Opts.CI == CIStudentT {
		b.WriteString("Student t, mean ± t(0.975, n−1)·s/√n")
	} else {
		fmt.Fprintf(&b, "percentile bootstrap over seeds, %d resamples, PCG seed %d", r.Opts.Resamples, r.Opts.Seed)
	}
	b.WriteString("). ")
	switch {
	case r.ModalN <= 1:
		b.WriteString("Most cells have one seed: they show the value alone, without an interval (n=1); a significance test needs at least 2 seeds on both sides. ")
	default:
		fmt.Fprintf(&b, "n = %d seeds per cell unless marked (n=k); a cell with one seed shows its value alone. ", r.ModalN)
		if r.Opts.CI == CIBootstrap && r.ModalN < 5 {
			b.WriteString("With fewer than 5 seeds the bootstrap interval is too narrow; prefer --ci t. ")
		}
	}
	b.WriteString("— marks a missing cell.")
	return b.String()
}

func (r *Report) cellText(c *Cell, dec int) string {
	if c == nil {
		return dash
	}
	s := fmtF(c.Mean, dec)
	if c.HasCI {
		s += " ± " + fmtF(c.HalfWidth(), dec)
	}
	if c.N() != r.ModalN || (c.N() == 1 && r.ModalN != 1) {
		s += fmt.Sprintf(" (n=%d)", c.N())
	}
	return s
}

func (r *Report) grids() []grid {
	var gs []grid
	for _, t := range r.Tables {
		g := grid{
			title:   "Task " + t.Task,
			caption: "Mean ± 95% CI over seeds; rows model × metric, columns algorithms.",
			header:  append([]string{"model", "metric"}, mapStrings(t.Algorithms, displayName)...),
			right:   append([]bool{false, false}, repeatBool(true, len(t.Algorithms))...),
		}
		prevModel := ""
		for _, row := range t.Rows {
			dec := decimals(row.Cells)
			line := []string{row.Model, row.Metric}
			for _, c := range row.Cells {
				line = append(line, r.cellText(c, dec))
			}
			g.rule = append(g.rule, prevModel != "" && row.Model != prevModel)
			prevModel = row.Model
			g.rows = append(g.rows, line)
		}
		gs = append(gs, g)
	}
	gs = append(gs, r.kindGrids()...)
	gs = append(gs, r.selectedGrid()...)
	if len(r.Headline) > 0 {
		tgt, m := displayName(r.TargetLabel), r.Opts.Metric
		g := grid{
			title: fmt.Sprintf("Headline: %s vs baselines on %s", tgt, m),
			caption: fmt.Sprintf("Relative: mean over task × model cells of %s/baseline − 1 on the per-cell means of %s (the paper's formula). "+
				"Absolute: mean over the same cells of %s − baseline, in %s units.", tgt, m, tgt, m),
			header: []string{"baseline", "relative improvement", "absolute (points)", "cells"},
			right:  []bool{false, true, true, true},
		}
		var all []*Cell
		for _, c := range r.Comparisons {
			all = append(all, c.Target, c.Base)
		}
		dec := decimals(all)
		for _, h := range r.Headline {
			cells := strconv.Itoa(h.Cells)
			if h.AbsCells != h.Cells {
				cells = fmt.Sprintf("%d (absolute: %d)", h.Cells, h.AbsCells)
			}
			g.rows = append(g.rows, []string{displayName(h.Baseline), fmtPct(h.Relative), fmtSigned(h.Absolute, dec), cells})
		}
		gs = append(gs, g)
	}
	tested := false
	for _, c := range r.Comparisons {
		tested = tested || c.Test != ""
	}
	// With one seed per cell there is nothing to test; Method says so
	// instead of printing a table of dashes.
	if tested {
		tgt := displayName(r.TargetLabel)
		testName := "paired t-test on per-seed differences (seeds matched by value), Welch's t-test when fewer than 2 seeds are shared"
		if r.Opts.Test == TestPermutation {
			testName = fmt.Sprintf("paired sign-flip permutation test on per-seed differences (seeds matched by value), two-sample permutation test when fewer than 2 seeds are shared; exact up to %d rearrangements, else %d Monte-Carlo draws", exactLimit, r.Opts.Permutations)
		}
		g := grid{
			title:   fmt.Sprintf("Significance: %s vs each baseline on %s, per cell", tgt, r.Opts.Metric),
			caption: "Two-sided p-values: " + testName + ". Not corrected for multiple comparisons.",
			header:  []string{"task", "model", "baseline", tgt, "baseline mean", "Δ", "relative", "test", "n", "p"},
			right:   []bool{false, false, false, true, true, true, true, false, true, true},
		}
		for _, c := range r.Comparisons {
			dec := decimals([]*Cell{c.Target, c.Base})
			test, p := c.Test, fmtP(c.P)
			if test == "" {
				test = dash
			}
			if math.IsNaN(c.P) {
				p = dash + " (" + c.PNote + ")"
			}
			g.rows = append(g.rows, []string{c.Task, c.Model, displayName(c.Baseline),
				fmtF(c.Target.Mean, dec), fmtF(c.Base.Mean, dec), fmtSigned(c.Diff, dec), fmtPct(c.Relative),
				test, strconv.Itoa(c.N), p})
		}
		gs = append(gs, g)
	}
	gs = append(gs, r.comparisonGrid()...)
	gs = append(gs, r.aggregateGrids()...)
	gs = append(gs, r.passKGrids()...)
	gs = append(gs, r.computeGrids()...)
	for _, a := range r.Ablations {
		name := displayName(a.Algorithm)
		g := grid{
			title: fmt.Sprintf("Ablation: %s on %s (%s)", name, a.Task, a.Metric),
			caption: fmt.Sprintf("Full %s and with one component removed; Δ = mean over models of the relative drop (full − ablated)/full "+
				"(positive: removing the component hurts).", name),
			header: []string{"model", "full"},
			right:  []bool{false, true},
		}
		for _, p := range a.Parts {
			g.header = append(g.header, "w/o "+p)
			g.right = append(g.right, true)
		}
		for i, m := range a.Models {
			cs := append([]*Cell{a.Full[i]}, a.Cells[i]...)
			dec := decimals(cs)
			line := []string{m}
			for _, c := range cs {
				line = append(line, r.cellText(c, dec))
			}
			g.rows = append(g.rows, line)
			g.rule = append(g.rule, false)
		}
		line := []string{"Δ (mean relative drop)", dash}
		for j := range a.Parts {
			s := fmtPctUnsigned(a.Delta[j])
			if a.DeltaN[j] != len(a.Models) && a.DeltaN[j] > 0 {
				s += fmt.Sprintf(" (%d of %d models)", a.DeltaN[j], len(a.Models))
			}
			line = append(line, s)
		}
		g.rows = append(g.rows, line)
		g.rule = append(g.rule, true)
		gs = append(gs, g)
	}
	return gs
}

func (r *Report) markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Results: %s\n\n%s\n", r.Source, r.Method())
	for _, g := range r.grids() {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", g.title, g.caption)
		b.WriteString("| " + strings.Join(mapStrings(g.header, mdEscape), " | ") + " |\n|")
		for _, right := range g.right {
			if right {
				b.WriteString("---:|")
			} else {
				b.WriteString("---|")
			}
		}
		b.WriteString("\n")
		for _, row := range g.rows {
			b.WriteString("| " + strings.Join(mapStrings(row, mdEscape), " | ") + " |\n")
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range r.Notes {
			b.WriteString("- " + mdEscape(n) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func (r *Report) latex(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%% Generated by bench report from %s. Needs \\usepackage{booktabs}.\n", texLine(r.Source))
	fmt.Fprintf(&b, "%% %s\n", texLine(r.Method()))
	for _, g := range r.grids() {
		b.WriteString("\n\\begin{table}[ht]\n\\centering\n\\small\n")
		fmt.Fprintf(&b, "\\caption{%s. %s}\n", texEscape(g.title), texEscape(g.caption))
		b.WriteString("\\begin{tabular}{")
		for _, right := range g.right {
			if right {
				b.WriteByte('r')
			} else {
				b.WriteByte('l')
			}
		}
		b.WriteString("}\n\\toprule\n")
		b.WriteString(strings.Join(mapStrings(g.header, texEscape), " & ") + " \\\\\n\\midrule\n")
		for i, row := range g.rows {
			if i < len(g.rule) && g.rule[i] {
				b.WriteString("\\midrule\n")
			}
			b.WriteString(strings.Join(mapStrings(row, texEscape), " & ") + " \\\\\n")
		}
		b.WriteString("\\bottomrule\n\\end{tabular}\n\\end{table}\n")
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n% Notes:\n")
		for _, n := range r.Notes {
			b.WriteString("% - " + texLine(n) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// texLine keeps a string on one comment line.
func texLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

var texReplacer = strings.NewReplacer(
	`\`, `\textbackslash{}`, `&`, `\&`, `%`, `\%`, `$`, `\$`, `#`, `\#`, `_`, `\_`,
	`{`, `\{`, `}`, `\}`, `~`, `\textasciitilde{}`, `^`, `\textasciicircum{}`,
	"±", `$\pm$`, "—", "---", "−", "$-$", "Δ", `$\Delta$`, "×", `$\times$`, "√", `$\sqrt{}$`,
	"≤", `$\le$`, "<", `$<$`, ">", `$>$`,
)

func texEscape(s string) string { return texReplacer.Replace(s) }

// CSV columns: one schema for every table, unused fields empty. "table" is
// cell | headline | test | ablation | ablation_delta; "method" is the
// interval method for cells and the test for tests.
var csvHeader = []string{"table", "task", "model", "metric", "algorithm", "baseline", "n",
	"mean", "sd", "ci_lo", "ci_hi", "half_width", "relative_pct", "absolute", "method", "p", "note"}

func (r *Report) csv(w io.Writer) error {
	cw := csv.NewWriter(w)
	put := func(rec map[string]string) {
		line := make([]string, len(csvHeader))
		for i, h := range csvHeader {
			line[i] = rec[h]
		}
		cw.Write(line)
	}
	cw.Write(csvHeader)
	cell := func(table string, c *Cell) map[string]string {
		m := map[string]string{"table": table, "task": c.Task, "model": c.Model, "metric": c.Metric,
			"algorithm": c.Algorithm, "n": strconv.Itoa(c.N()), "mean": num(c.Mean)}
		if c.N() >= 2 {
			m["sd"] = num(c.SD)
		}
		if c.HasCI {
			m["ci_lo"], m["ci_hi"], m["half_width"] = num(c.Lo), num(c.Hi), num(c.HalfWidth())
			m["method"] = r.Opts.CI.String()
		}
		return m
	}
	for _, t := range r.Tables {
		for _, row := range t.Rows {
			for _, c := range row.Cells {
				if c != nil {
					put(cell("cell", c))
				}
			}
		}
	}
	for _, h := range r.Headline {
		put(map[string]string{"table": "headline", "metric": r.Opts.Metric, "algorithm": r.TargetLabel,
			"baseline": h.Baseline, "n": strconv.Itoa(h.Cells), "relative_pct": num(100 * h.Relative),
			"absolute": num(h.Absolute), "note": "n = task × model cells"})
	}
	for _, c := range r.Comparisons {
		put(map[string]string{"table": "test", "task": c.Task, "model": c.Model, "metric": r.Opts.Metric,
			"algorithm": r.TargetLabel, "baseline": c.Baseline, "n": strconv.Itoa(c.N),
			"mean": num(c.Target.Mean), "relative_pct": num(100 * c.Relative), "absolute": num(c.Diff),
			"method": c.Test, "p": num(c.P), "note": c.PNote})
	}
	r.comparisonCSV(put)
	for _, a := range r.Ablations {
		for i := range a.Models {
			for _, c := range append([]*Cell{a.Full[i]}, a.Cells[i]...) {
				if c != nil {
					put(cell("ablation", c))
				}
			}
		}
		for j, p := range a.Parts {
			put(map[string]string{"table": "ablation_delta", "task": a.Task, "metric": a.Metric,
				"algorithm": a.Algorithm + "-no-" + p, "baseline": a.Algorithm, "n": strconv.Itoa(a.DeltaN[j]),
				"relative_pct": num(100 * a.Delta[j]), "note": "mean relative drop over models"})
		}
	}
	cw.Flush()
	return cw.Error()
}

// num prints a machine-readable number; NaN as empty. Ten significant
// digits keep golden files stable across architectures that fuse
// multiply-adds differently.
func num(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	s := strconv.FormatFloat(x, 'g', 10, 64)
	if s == "-0" {
		s = "0"
	}
	return s
}

// decimals picks the decimals for a row: 2 when its largest |mean| is at
// least 1, else enough for three significant digits of that largest mean
// (so a KL row of 0.0123 is not printed as "0.01").
func decimals(cs []*Cell) int {
	big := 0.0
	for _, c := range cs {
		if c != nil {
			big = math.Max(big, math.Abs(c.Mean))
		}
	}
	if big == 0 || big >= 1 {
		return 2
	}
	d := 2 - int(math.Floor(math.Log10(big)))
	return min(max(d, 2), 6)
}

func fmtF(x float64, dec int) string {
	if math.IsNaN(x) {
		return dash
	}
	s := strconv.FormatFloat(x, 'f', dec, 64)
	if strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-")
	}
	return strings.Replace(s, "-", "−", 1)
}

func fmtSigned(x float64, dec int) string {
	s := fmtF(x, dec)
	if !math.IsNaN(x) && !strings.HasPrefix(s, "−") {
		s = "+" + s
	}
	return s
}

func fmtPct(x float64) string {
	if math.IsNaN(x) {
		return dash
	}
	return fmtSigned(100*x, 2) + "%"
}

func fmtPctUnsigned(x float64) string {
	if math.IsNaN(x) {
		return dash
	}
	return fmtF(100*x, 2) + "%"
}

func fmtP(p float64) string {
	switch {
	case math.IsNaN(p):
		return dash
	case p < 1e-4:
		return "<0.0001"
	}
	return strconv.FormatFloat(p, 'f', 4, 64)
}

func mapStrings(xs []string, f func(string) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func repeatBool(v bool, n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = v
	}
	return out
}
