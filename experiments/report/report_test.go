package report

import (
	"bytes"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func mustRead(t *testing.T, path string) *Results {
	t.Helper()
	res, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func mustBuild(t *testing.T, res *Results, opts Options) *Report {
	t.Helper()
	rep, err := Build(res, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// The paper's Tables 1–2 must give the paper's headline numbers:
// mean over the four (model × dataset) cells of GRAO/baseline − 1 on RAS.
func TestPaperHeadline(t *testing.T) {
	rep := mustBuild(t, mustRead(t, "testdata/paper_results.csv"), DefaultOptions())
	want := []struct {
		baseline  string
		rel, abs  float64 // percent, RAS points
		wantCells int
	}{
		// abs: mean of GRAO − baseline over the same four cells, by hand:
		// SFT (33.65+27.39+16.58+16.30)/4 = 23.48.
		{"sft", 57.73, 23.48, 4},
		{"dpo", 17.67, 10.4825, 4},
		{"ppo", 6.82, 4.4875, 4},
		{"grpo", 6.35, 4.20, 4},
	}
	if len(rep.Headline) != len(want) {
		t.Fatalf("got %d headline rows, want %d", len(rep.Headline), len(want))
	}
	for i, w := range want {
		h := rep.Headline[i]
		if h.Baseline != w.baseline {
			t.Errorf("row %d: baseline %q, want %q (paper column order)", i, h.Baseline, w.baseline)
		}
		if !near(100*h.Relative, w.rel, 0.005) {
			t.Errorf("vs %s: relative %.4f%%, want %.2f%%", w.baseline, 100*h.Relative, w.rel)
		}
		if !near(h.Absolute, w.abs, 1e-9) {
			t.Errorf("vs %s: absolute %.6f, want %.4f", w.baseline, h.Absolute, w.abs)
		}
		if h.Cells != w.wantCells {
			t.Errorf("vs %s: %d cells, want %d", w.baseline, h.Cells, w.wantCells)
		}
	}
	if len(rep.Notes) != 0 {
		t.Errorf("complete paper tables should give no notes, got %q", rep.Notes)
	}
	var md bytes.Buffer
	if err := rep.Render(&md, Markdown); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"+57.73%", "+17.67%", "+6.82%", "+6.35%"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("markdown lacks %s", s)
		}
	}
}

// Paper Table 3: Δ = mean over the two models of (full − ablated)/full.
func TestPaperAblation(t *testing.T) {
	rep := mustBuild(t, mustRead(t, "testdata/paper_results.csv"), DefaultOptions())
	if len(rep.Ablations) != 1 {
		t.Fatalf("got %d ablation tables, want 1", len(rep.Ablations))
	}
	a := rep.Ablations[0]
	if a.Task != "helpful-base" || a.Metric != "NAG" || strings.Join(a.Parts, ",") != "imitation,exploration,regularizer" {
		t.Fatalf("ablation table %s/%s parts %v", a.Task, a.Metric, a.Parts)
	}
	full := []float64{67.98, 55.06}
	abl := [][]float64{{63.79, 49.87}, {64.38, 43.86}, {61.18, 46.26}}
	// The paper prints 7.79 / 12.81 / 12.98. Its table values are rounded to
	// 0.01, so Δ recomputed from them can differ in the second decimal: the
	// same formula on the printed values gives 7.79 / 12.82 / 12.99.
	paper := []float64{7.79, 12.81, 12.98}
	for j := range a.Parts {
		want := ((full[0]-abl[j][0])/full[0] + (full[1]-abl[j][1])/full[1]) / 2 * 100
		got := 100 * a.Delta[j]
		if !near(got, want, 1e-9) {
			t.Errorf("no-%s: Δ %.6f%%, want %.6f%%", a.Parts[j], got, want)
		}
		if !near(got, paper[j], 0.015) {
			t.Errorf("no-%s: Δ %.4f%% is not within rounding of the paper's %.2f%%", a.Parts[j], got, paper[j])
		}
		if a.DeltaN[j] != 2 {
			t.Errorf("no-%s: Δ over %d models, want 2", a.Parts[j], a.DeltaN[j])
		}
	}
	// Ablation variants must not appear as columns of the main tables.
	for _, tb := range rep.Tables {
		if strings.Join(tb.Algorithms, ",") != "sft,dpo,ppo,grpo,grao" {
			t.Errorf("task %s columns %v", tb.Task, tb.Algorithms)
		}
	}
}

// Formulas on a hand-written file with three seeds.
func TestSeedsFormulas(t *testing.T) {
	res := mustRead(t, "testdata/seeds.csv")
	for _, ci := range []CIMethod{CIBootstrap, CIStudentT} {
		for _, test := range []TestMethod{TestT, TestPermutation} {
			opts := DefaultOptions()
			opts.CI, opts.Test = ci, test
			rep := mustBuild(t, res, opts)
			name := ci.String() + "/" + test.String()
			if len(rep.Tables) != 1 {
				t.Fatalf("%s: %d tables", name, len(rep.Tables))
			}
			tb := rep.Tables[0]
			cell := func(model, metric, alg string) *Cell {
				for _, r := range tb.Rows {
					if r.Model == model && r.Metric == metric {
						for j, a := range tb.Algorithms {
							if a == alg {
								return r.Cells[j]
							}
						}
					}
				}
				t.Fatalf("%s: no row %s %s / column %s", name, model, metric, alg)
				return nil
			}
			// Means by hand.
			for _, c := range []struct {
				model, metric, alg string
				mean, sd           float64
				n                  int
			}{
				{"small", "RAS", "sft", 22, 2, 3},
				{"small", "RAS", "grpo", 33, 3, 3},
				{"small", "RAS", "grao", 37, math.Sqrt(7), 3},
				{"medium", "RAS", "grao", 46, math.Sqrt(7), 3},
				{"small", "kl", "grpo", 0.05, 0.01, 3},
				{"medium", "kl", "sft", 0.008, 0, 1},
			} {
				got := cell(c.model, c.metric, c.alg)
				if got == nil {
					t.Fatalf("%s: %+v missing", name, c)
				}
				if !near(got.Mean, c.mean, 1e-12) || !near(got.SD, c.sd, 1e-12) || got.N() != c.n {
					t.Errorf("%s: %s %s %s: mean %v sd %v n %d, want %v %v %d", name, c.model, c.metric, c.alg, got.Mean, got.SD, got.N(), c.mean, c.sd, c.n)
				}
			}
			if c := cell("medium", "RAS", "grpo"); c != nil {
				t.Errorf("%s: medium/grpo should be missing, got %+v", name, c)
			}
			// Every interval is ordered and contains its mean; n=1 has none.
			for _, r := range tb.Rows {
				for _, c := range r.Cells {
					if c == nil {
						continue
					}
					if c.N() == 1 && c.HasCI {
						t.Errorf("%s: n=1 cell %s/%s/%s has an interval", name, c.Model, c.Metric, c.Algorithm)
					}
					if c.HasCI && !(c.Lo <= c.Mean && c.Mean <= c.Hi && c.Lo < c.Hi) {
						t.Errorf("%s: %s/%s/%s interval [%v, %v] around %v", name, c.Model, c.Metric, c.Algorithm, c.Lo, c.Hi, c.Mean)
					}
				}
			}
			if ci == CIStudentT {
				// [20,22,24]: 22 ± t(0.975, 2)·2/√3, t(0.975, 2) = 4.302652729749464.
				c := cell("small", "RAS", "sft")
				if !near(c.HalfWidth(), 4.302652729749464*2/math.Sqrt(3), 1e-9) {
					t.Errorf("t half-width %v", c.HalfWidth())
				}
			}
			// Headline: vs sft both cells, vs grpo only small (medium missing).
			if len(rep.Headline) != 2 || rep.Headline[0].Baseline != "sft" || rep.Headline[1].Baseline != "grpo" {
				t.Fatalf("%s: headline %+v", name, rep.Headline)
			}
			if h := rep.Headline[0]; h.Cells != 2 || !near(h.Relative, (37.0/22+46.0/27)/2-1, 1e-12) || !near(h.Absolute, 17, 1e-12) {
				t.Errorf("%s: vs sft %+v", name, h)
			}
			if h := rep.Headline[1]; h.Cells != 1 || !near(h.Relative, 37.0/33-1, 1e-12) {
				t.Errorf("%s: vs grpo %+v", name, h)
			}
			if !containsSub(rep.Notes, "headline vs GRPO: cell arith / medium excluded") {
				t.Errorf("%s: no note about the excluded cell: %q", name, rep.Notes)
			}
			for _, c := range rep.Comparisons {
				if !c.Paired || c.N != 3 || !(c.P > 0 && c.P <= 1) {
					t.Errorf("%s: comparison %s/%s vs %s: paired %v n %d p %v", name, c.Task, c.Model, c.Baseline, c.Paired, c.N, c.P)
				}
			}
			// GRAO − SFT on small: d = [15, 14, 16].
			c := rep.Comparisons[0]
			if c.Model != "small" || c.Baseline != "sft" {
				t.Fatalf("first comparison %s vs %s", c.Model, c.Baseline)
			}
			switch test {
			case TestT:
				// Two-sided p of Student t with 2 df is 1 − |t|/√(t²+2).
				tt := 15 / (1 / math.Sqrt(3))
				if want := 1 - tt/math.Sqrt(tt*tt+2); !near(c.P, want, 1e-9) {
					t.Errorf("paired t p %v, want %v", c.P, want)
				}
			case TestPermutation:
				// All 3 differences positive: only the identity and the full
				// flip reach |Σd| = 45 among 2³ sign patterns.
				if c.P != 0.25 || c.Test != "sign-flip (exact)" {
					t.Errorf("sign-flip p %v (%s), want 0.25 exact", c.P, c.Test)
				}
			}
			var md bytes.Buffer
			if err := rep.Render(&md, Markdown); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{"| medium | RAS | 27.00 ± ", " | — | ", "0.0080 (n=1)"} {
				if !strings.Contains(md.String(), s) {
					t.Errorf("%s: markdown lacks %q", name, s)
				}
			}
		}
	}
}

func containsSub(list []string, s string) bool {
	for _, l := range list {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func TestStatsByHand(t *testing.T) {
	// Welch with equal n = 2 and equal variances has 2 df, where the
	// two-sided p is 1 − |t|/√(t²+2).
	p, ok := welchT([]float64{1, 3}, []float64{4, 6})
	tt := 3 / math.Sqrt(2)
	if want := 1 - tt/math.Sqrt(tt*tt+2); !ok || !near(p, want, 1e-9) {
		t.Errorf("welch p %v ok %v, want %v", p, ok, want)
	}
	if _, ok := welchT([]float64{1, 1}, []float64{2, 2}); ok {
		t.Error("welch on zero variance should report not ok")
	}
	if _, ok := pairedT([]float64{2, 2, 2}); ok {
		t.Error("paired t on constant differences should report not ok")
	}
	// [1,2,3] vs [4,5,6]: 2 of the C(6,3) = 20 splits are as extreme.
	rng := rand.New(rand.NewPCG(1, 2))
	if p, exact := twoSamplePerm([]float64{1, 2, 3}, []float64{4, 5, 6}, 1000, rng); p != 0.1 || !exact {
		t.Errorf("two-sample permutation p %v exact %v, want 0.1 exact", p, exact)
	}
	// Monte-Carlo branch: 20 vs 20 is far beyond exact enumeration; a clear
	// shift must give a small, valid p.
	var a, b []float64
	for i := range 20 {
		a = append(a, float64(i))
		b = append(b, float64(i)+15)
	}
	if p, exact := twoSamplePerm(a, b, 2000, rng); exact || p <= 0 || p > 0.01 {
		t.Errorf("MC permutation p %v exact %v", p, exact)
	}
	if p, exact := signFlip(make([]float64, 20), 500, rng); exact || p != 1 {
		t.Errorf("MC sign-flip on zeros p %v exact %v, want 1", p, exact)
	}
	if got := Quantile([]float64{1, 2, 3, 4}, 0.5); got != 2.5 {
		t.Errorf("median of 1..4 = %v", got)
	}
}

// The interval of a cell must not depend on row order or on other cells.
func TestDeterministicAndOrderFree(t *testing.T) {
	res := mustRead(t, "testdata/seeds.csv")
	a := mustBuild(t, res, DefaultOptions())
	shuffled := *res
	shuffled.Rows = append([]Row(nil), res.Rows...)
	rand.New(rand.NewPCG(7, 7)).Shuffle(len(shuffled.Rows), func(i, j int) {
		shuffled.Rows[i], shuffled.Rows[j] = shuffled.Rows[j], shuffled.Rows[i]
	})
	b := mustBuild(t, &shuffled, DefaultOptions())
	index := func(r *Report) map[string]Cell {
		m := map[string]Cell{}
		for _, tb := range r.Tables {
			for _, row := range tb.Rows {
				for _, c := range row.Cells {
					if c != nil {
						m[c.Model+"/"+c.Metric+"/"+c.Algorithm] = *c
					}
				}
			}
		}
		return m
	}
	ia, ib := index(a), index(b)
	if len(ia) != len(ib) || len(ia) == 0 {
		t.Fatalf("%d vs %d cells", len(ia), len(ib))
	}
	for k, ca := range ia {
		cb := ib[k]
		if ca.Mean != cb.Mean || ca.Lo != cb.Lo || ca.Hi != cb.Hi {
			t.Errorf("%s: %v [%v,%v] vs %v [%v,%v]", k, ca.Mean, ca.Lo, ca.Hi, cb.Mean, cb.Lo, cb.Hi)
		}
	}
}

func TestAblationColumn(t *testing.T) {
	rep := mustBuild(t, mustRead(t, "testdata/ablation_column.csv"), DefaultOptions())
	if len(rep.Ablations) != 1 {
		t.Fatalf("%d ablation tables", len(rep.Ablations))
	}
	a := rep.Ablations[0]
	if strings.Join(a.Parts, ",") != "imitation,exploration,regularizer" || strings.Join(a.Models, ",") != "small,medium" {
		t.Fatalf("parts %v models %v", a.Parts, a.Models)
	}
	want := []struct {
		delta float64
		n     int
	}{
		{((52.0-46)/52 + (60.0-57)/60) / 2, 2},
		{((52.0-41)/52 + (60.0-54)/60) / 2, 2},
		{(52.0 - 49) / 52, 1}, // medium has no no-regularizer run
	}
	for j, w := range want {
		if !near(a.Delta[j], w.delta, 1e-12) || a.DeltaN[j] != w.n {
			t.Errorf("no-%s: Δ %v over %d, want %v over %d", a.Parts[j], a.Delta[j], a.DeltaN[j], w.delta, w.n)
		}
	}
	if !containsSub(rep.Notes, "medium / no-regularizer: missing cell") {
		t.Errorf("no note about the missing ablation cell: %q", rep.Notes)
	}
}

func TestVariantsAndOptions(t *testing.T) {
	res := mustRead(t, "testdata/sensitivity.csv")
	if got := strings.Join(res.Algorithms(), "|"); got != "sft|grao (beta=0.3)|grao (beta=0.5)" {
		t.Errorf("labels %q", got)
	}
	opts := DefaultOptions()
	rep := mustBuild(t, res, opts)
	if rep.TargetLabel != "" || len(rep.Headline) != 0 || !containsSub(rep.Notes, `target "grao" is not among`) {
		t.Errorf("absent target: label %q headline %v notes %q", rep.TargetLabel, rep.Headline, rep.Notes)
	}
	opts.Target = "GRAO (beta=0.5)" // case-insensitive
	opts.Baselines = []string{"SFT"}
	rep = mustBuild(t, res, opts)
	if rep.TargetLabel != "grao (beta=0.5)" || len(rep.Headline) != 1 || !near(rep.Headline[0].Relative, 39.0/22-1, 1e-12) {
		t.Errorf("variant target: %q %+v", rep.TargetLabel, rep.Headline)
	}
	for _, bad := range [][]string{{"ppo"}, {"grao (beta=0.5)"}} {
		opts.Baselines = bad
		if _, err := Build(res, opts); err == nil {
			t.Errorf("baselines %v: want an error", bad)
		}
	}
	opts.Baselines, opts.Metrics = nil, []string{"nope"}
	if _, err := Build(res, opts); err == nil {
		t.Error("unknown --metrics: want an error")
	}
}

// A non-positive baseline mean makes A/B − 1 meaningless: excluded, noted.
func TestNonPositiveBaseline(t *testing.T) {
	csv := "trial,task,model,algorithm,seed,metric,value\n" +
		"1,t,m1,sft,1,NAG,-2\n2,t,m1,grao,1,NAG,10\n3,t,m2,sft,1,NAG,5\n4,t,m2,grao,1,NAG,10\n"
	res, err := Read(strings.NewReader(csv), "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Metric = "nag" // case-insensitive
	rep := mustBuild(t, res, opts)
	h := rep.Headline[0]
	if h.Cells != 1 || h.AbsCells != 2 || !near(h.Relative, 1, 1e-12) || !near(h.Absolute, (12.0+5)/2, 1e-12) {
		t.Errorf("headline %+v", h)
	}
	if !containsSub(rep.Notes, "baseline mean -2 ≤ 0") {
		t.Errorf("notes %q", rep.Notes)
	}
}

func TestGolden(t *testing.T) {
	for _, in := range []string{"paper_results", "seeds", "ablation_column"} {
		res := mustRead(t, filepath.Join("testdata", in+".csv"))
		res.File = in + ".csv" // golden output must not depend on the path
		rep := mustBuild(t, res, DefaultOptions())
		for _, f := range []Format{Markdown, LaTeX, CSV} {
			var buf bytes.Buffer
			if err := rep.Render(&buf, f); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", in+"."+string(f))
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from golden; run go test ./experiments/report -update and review the diff\n--- got ---\n%s", golden, buf.String())
			}
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"md": Markdown, "Markdown": Markdown, "tex": LaTeX, "latex": LaTeX, "CSV": CSV} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("html"); err == nil {
		t.Error("html: want an error")
	}
}

func TestTexEscape(t *testing.T) {
	got := texEscape(`a_b & 50% #1 {x} ~ ^ \ ± — Δ`)
	want := `a\_b \& 50\% \#1 \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{} $\pm$ --- $\Delta$`
	if got != want {
		t.Errorf("texEscape = %q\nwant %q", got, want)
	}
}
