package plots

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestEMA(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		span int
		want []float64
	}{
		{"span 1 is the identity", []float64{3, -1, 2}, 1, []float64{3, -1, 2}},
		{"span 0 is the identity", []float64{3, -1}, 0, []float64{3, -1}},
		// bias correction: a constant stays put from the first point on
		{"constant", []float64{5, 5, 5, 5}, 9, []float64{5, 5, 5, 5}},
		// α = 0.5: m = 0, 1.5 with weights 0.5, 0.75
		{"span 3", []float64{0, 3}, 3, []float64{0, 2}},
		{"empty", nil, 5, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ema(tc.xs, tc.span)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if math.Abs(got[i]-tc.want[i]) > 1e-12 {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestThin(t *testing.T) {
	seq := func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i + 1
		}
		return out
	}
	tests := []struct {
		name      string
		steps     []int
		k         int
		wantLen   int
		wantFirst int
		wantLast  int
	}{
		{"short run kept whole", seq(20), 100, 20, 1, 20},
		{"exactly k", seq(100), 100, 100, 1, 100},
		{"long run", seq(1000), 100, 100, 1, 1000},
		{"odd length", seq(1237), 100, 100, 1, 1237},
		{"k below 2 keeps all", seq(5), 1, 5, 1, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := thin(tc.steps, tc.k)
			if len(got) != tc.wantLen || got[0] != tc.wantFirst || got[len(got)-1] != tc.wantLast {
				t.Fatalf("len %d, first %d, last %d; want %d, %d, %d", len(got), got[0], got[len(got)-1], tc.wantLen, tc.wantFirst, tc.wantLast)
			}
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Fatalf("not strictly increasing: %v", got)
			}
		})
	}
}

func TestPanelLayout(t *testing.T) {
	// n panels plus one legend tile must fit
	tests := []struct{ n, rows, cols int }{
		{1, 1, 2}, {2, 2, 2}, {3, 2, 2}, {4, 2, 3}, {5, 2, 3}, {6, 3, 3}, {8, 3, 3}, {9, 4, 3},
	}
	for _, tc := range tests {
		r, c := panelLayout(tc.n)
		if r != tc.rows || c != tc.cols || r*c < tc.n+1 {
			t.Errorf("panelLayout(%d) = %d×%d, want %d×%d", tc.n, r, c, tc.rows, tc.cols)
		}
	}
}

// TestDiagCurve: a long run is thinned to at most maxLinePoints steps,
// keeps its last step, and its band never leaves the quantity's range.
func TestDiagCurve(t *testing.T) {
	const steps = 1000
	mk := func(seed int64, f func(s int) float64) *trial {
		tr := &trial{ID: fmt.Sprint(seed), Seed: seed}
		for s := 1; s <= steps; s++ {
			tr.Train = append(tr.Train, trainPoint{Step: s, Values: map[string]float64{"reward_std": f(s)},
				Components: map[string]float64{"clip_fraction": f(s)}})
		}
		return tr
	}
	// Two seeds far apart near zero: the t-interval of their mean spans
	// well below zero before clipping.
	cf := &config{Label: "ppo", Trials: []*trial{
		mk(1, func(int) float64 { return 0.001 }),
		mk(2, func(s int) float64 { return 0.2 + 0.0001*float64(s%7) }),
	}}
	b := &builder{o: DefaultOptions()}
	for _, d := range diagnostics {
		if d.key != "reward_std" && d.key != "clip_fraction" {
			continue
		}
		t.Run(d.key, func(t *testing.T) {
			cv := b.diagCurve(cf, d, smoothingSpan(steps))
			if n := len(cv.steps); n == 0 || n > maxLinePoints {
				t.Fatalf("%d points, want 1..%d", n, maxLinePoints)
			}
			if last := cv.steps[len(cv.steps)-1]; last != steps {
				t.Fatalf("last step %g, want %d", last, steps)
			}
			sawCI := false
			for i := range cv.steps {
				if !cv.hasCI[i] {
					continue
				}
				sawCI = true
				if cv.lo[i] < d.lo || cv.hi[i] > d.hi || cv.lo[i] > cv.hi[i] {
					t.Fatalf("step %g: band [%g, %g] outside [%g, %g]", cv.steps[i], cv.lo[i], cv.hi[i], d.lo, d.hi)
				}
			}
			if !sawCI {
				t.Fatal("no interval with two seeds")
			}
			if cv.lo[len(cv.lo)-1] != 0 {
				t.Errorf("lower end %g: an unclipped t-interval of 2 seeds this far apart goes below 0", cv.lo[len(cv.lo)-1])
			}
		})
	}
}

func diagPlan(trials ...string) string {
	var ts []string
	for _, tr := range trials {
		id, label, _ := strings.Cut(tr, ":")
		seed := id[len(id)-1:]
		ts = append(ts, fmt.Sprintf(`{"id":%q,"label":%q,"algorithm":%q,"seed":%s,"varying":{},"base_key":%q,"task":"t","model":"m"}`, id, label, label, seed, label))
	}
	return `{"sweep":"mini","trials":[` + strings.Join(ts, ",") + `]}`
}

// trainLines writes n training lines; extra is spliced into each.
func trainLines(n int, extra string) string {
	var b strings.Builder
	b.WriteString(`{"step":0,"eval":{"reward":0.1}}` + "\n")
	for s := 1; s <= n; s++ {
		fmt.Fprintf(&b, `{"step":%d,"loss":0.5%s}`+"\n", s, strings.ReplaceAll(extra, "S", fmt.Sprint(s%5)))
	}
	return b.String()
}

func TestTrainingDiagnosticsFigure(t *testing.T) {
	const name = "diagnostics_t_m"
	tests := []struct {
		name     string
		files    map[string]string
		wantFig  bool
		wantIn   []string // substrings of the caption
		wantOut  []string // panels that must be absent
		wantNote string   // substring of the note on name, when skipped
	}{
		{"no training lines", map[string]string{
			"plan.json":             diagPlan("g1:grao"),
			"runs/g1/metrics.jsonl": `{"step":0,"eval":{"reward":0.1}}` + "\n" + `{"step":5,"eval":{"reward":0.2}}` + "\n",
		}, false, nil, nil, "no training lines"},
		{"no metrics.jsonl", map[string]string{"plan.json": diagPlan("g1:grao")}, false, nil, nil, "no training lines"},
		{"loss only", map[string]string{
			"plan.json":             diagPlan("g1:grao"),
			"runs/g1/metrics.jsonl": trainLines(5, ""),
		}, false, nil, nil, "none of the diagnostics"},
		{"diagnostics in only some trials", map[string]string{
			"plan.json": diagPlan("g1:grao", "g2:grao", "p1:ppo"),
			// entropy only in one GRAO seed, clip fraction only in PPO
			"runs/g1/metrics.jsonl": trainLines(8, `,"kl":0.0S,"reward_mean":0.S`),
			"runs/g2/metrics.jsonl": trainLines(8, `,"kl":0.1S,"reward_mean":0.S,"entropy":1.S`),
			"runs/p1/metrics.jsonl": trainLines(6, `,"kl":0.2S,"components":{"clip_fraction":0.0S,"policy":0.1}`),
		}, true, []string{"reward mean", "KL to the starting policy", "entropy", "clip fraction", "unsmoothed", "1–2 seeds"},
			[]string{"reward std", "gradient norm", "completion length", "groups"}, ""},
		{"long run is smoothed", map[string]string{
			"plan.json":             diagPlan("g1:grao", "g2:grao"),
			"runs/g1/metrics.jsonl": trainLines(1000, `,"grad_norm":1.S,"groups_kept":0.S,"rollout_rounds":2`),
			"runs/g2/metrics.jsonl": trainLines(1000, `,"grad_norm":1.S,"groups_kept":0.S`),
		}, true, []string{"gradient norm", "kept by the dynamic-sampling filter", "span 20 logged steps", "2 seeds"},
			[]string{"entropy", "clip fraction"}, ""},
		{"mixture of experts", map[string]string{
			"plan.json":             diagPlan("m1:grao"),
			"runs/m1/metrics.jsonl": trainLines(8, `,"kl":0.0S,"model":{"moe/frac_max":0.3S,"moe/util_entropy":0.9S,"moe_balance":0.01}`),
		}, true, []string{"busiest expert", "entropy of the experts' token shares"}, []string{"gradient norm"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := miniSweep(t, tc.files)
			o := DefaultOptions()
			o.Formats = []string{"svg"}
			figs, notes, err := All(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			var fig *Figure
			for i := range figs {
				if figs[i].Name == name {
					fig = &figs[i]
				}
			}
			if (fig != nil) != tc.wantFig {
				t.Fatalf("figure %s present = %v, want %v; figures %v", name, fig != nil, tc.wantFig, figs)
			}
			if fig == nil {
				for _, n := range notes {
					if n.Figure == name && strings.Contains(n.Reason, tc.wantNote) {
						return
					}
				}
				t.Fatalf("no note on %s containing %q; notes %v", name, tc.wantNote, notes)
			}
			if fig.Kind != "diagnostics" || len(fig.Files) != 1 {
				t.Errorf("kind %q, files %v", fig.Kind, fig.Files)
			}
			for _, w := range tc.wantIn {
				if !strings.Contains(fig.Caption, w) && !strings.Contains(fig.Title, w) {
					t.Errorf("caption and title lack %q:\n%s\n%s", w, fig.Title, fig.Caption)
				}
			}
			for _, w := range tc.wantOut {
				if strings.Contains(fig.Caption, w) {
					t.Errorf("caption has a panel %q that no trial logs:\n%s", w, fig.Caption)
				}
			}
		})
	}
}

// TestParseStepLogDiagnostics: the trainer's StepLog fields that the
// diagnostics read reach trainPoint.Values; absent ones stay absent, so a
// panel is never drawn from a zero that nobody logged.
func TestParseStepLogDiagnostics(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		want   map[string]float64
		absent []string
	}{
		{"online with dynamic sampling",
			`{"step":7,"loss":0.1,"components":{"clip_fraction":0.12},"reward_mean":0.2,"reward_std":0.6,"kl":0.03,"entropy":1.4,` +
				`"length_mean":88,"zero_variance":0.25,"all_lose":0.1,"all_win":0.15,"rollout_rounds":2,"groups_kept":0.75,` +
				`"grad_norm":0.9,"lr":1e-5,"timing":{"rollout":1},"compute":{"samples":64}}`,
			map[string]float64{"reward_mean": 0.2, "reward_std": 0.6, "kl": 0.03, "entropy": 1.4, "length_mean": 88,
				"zero_variance": 0.25, "all_lose": 0.1, "all_win": 0.15, "rollout_rounds": 2, "groups_kept": 0.75, "grad_norm": 0.9, "lr": 1e-5},
			nil},
		{"mixture of experts", `{"step":2,"loss":0.3,"grad_norm":1,"lr":1e-5,"model":{"moe_balance":0.0102,"moe/frac_max":0.31,"moe/util_entropy":0.97}}`,
			map[string]float64{"model/moe_balance": 0.0102, "model/moe/frac_max": 0.31, "model/moe/util_entropy": 0.97, "grad_norm": 1},
			nil},
		{"offline", `{"step":3,"loss":0.6,"grad_norm":1.1,"lr":1e-5}`,
			map[string]float64{"grad_norm": 1.1, "lr": 1e-5},
			[]string{"reward_mean", "kl", "entropy", "zero_variance", "groups_kept", "rollout_rounds"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp, _, isEval, _, err := parseMetricsLine([]byte(tc.line))
			if err != nil || isEval {
				t.Fatalf("err %v, isEval %v", err, isEval)
			}
			for k, v := range tc.want {
				if got, ok := tp.Values[k]; !ok || got != v {
					t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
				}
			}
			for _, k := range tc.absent {
				if _, ok := tp.Values[k]; ok {
					t.Errorf("%s present in %v", k, tp.Values)
				}
			}
		})
	}
}
