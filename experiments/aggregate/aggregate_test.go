package aggregate

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// close reports agreement to tol, absolute near zero and relative beyond
// one; NaN only matches NaN.
func close(got, want, tol float64) bool {
	if math.IsNaN(got) || math.IsNaN(want) {
		return math.IsNaN(got) && math.IsNaN(want)
	}
	return math.Abs(got-want) <= tol*max(1, math.Abs(want))
}

const goldenTol = 1e-9

func m(rows ...[]float64) [][]float64 { return rows }

func TestPointEstimates(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		x                        [][]float64
		iqm, mean, median, gap09 float64
	}{
		// n = 8 trims 2 from each end: mean(3, 4, 5, 6).
		{"1..8", m([]float64{1, 2, 3, 4}, []float64{5, 6, 7, 8}), 4.5, 4.5, 4.5, 0},
		// n = 5 trims int(1.25) = 1: mean(2, 3, 4).
		{"1..5", m([]float64{5}, []float64{1}, []float64{4}, []float64{2}, []float64{3}), 3, 3, 3, 0},
		{"single", m([]float64{0.7}), 0.7, 0.7, 0.7, 0.2},
		// The outlier moves the mean, not the IQM.
		{"outlier", m([]float64{0, 0, 0, 100}), 0, 25, 0, 0.675},
		// n = 6 trims 1: mean(0.2, 0.2, 0.5, 0.5); gap = (0.9 + 0.7 + 0.7 + 0.4 + 0.4)/6.
		{"ties", m([]float64{0, 0.2, 0.5}, []float64{0.2, 0.5, 1}), 0.35, 2.4 / 6, 0.35, 3.1 / 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []struct {
				what      string
				got, want float64
			}{
				{"IQM", IQM(tc.x), tc.iqm},
				{"Mean", Mean(tc.x), tc.mean},
				{"Median", Median(tc.x), tc.median},
				{"OptimalityGap(0.9)", OptimalityGap(tc.x, 0.9), tc.gap09},
			} {
				if !close(c.got, c.want, 1e-12) {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestPointEstimatesDoNotModifyInput(t *testing.T) {
	x := m([]float64{3, 1, 2}, []float64{0, 5, 4})
	want := m([]float64{3, 1, 2}, []float64{0, 5, 4})
	IQM(x)
	Median(x)
	PerformanceProfile(x, []float64{1})
	ProbImprovement(x, x)
	for i := range x {
		if !slices.Equal(x[i], want[i]) {
			t.Fatalf("input changed to %v", x)
		}
	}
}

func TestEmptyIsNaN(t *testing.T) {
	for _, x := range [][][]float64{nil, {{}, {}}} {
		for name, v := range map[string]float64{
			"IQM": IQM(x), "Mean": Mean(x), "Median": Median(x), "OptimalityGap": OptimalityGap(x, 1),
			"ProbImprovement": ProbImprovement(x, x), "PerformanceProfile": PerformanceProfile(x, []float64{0})[0],
		} {
			if !math.IsNaN(v) {
				t.Errorf("%s(%v) = %v, want NaN", name, x, v)
			}
		}
	}
}

func mustPanic(t *testing.T, what, contains string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s: no panic", what)
			return
		}
		if !strings.Contains(fmt.Sprint(r), contains) {
			t.Errorf("%s: panic %q does not mention %q", what, r, contains)
		}
	}()
	f()
}

func TestPointEstimatesPanic(t *testing.T) {
	ragged := m([]float64{1, 2}, []float64{3})
	nan := m([]float64{1, math.NaN()})
	for name, f := range map[string]func([][]float64){
		"IQM":                func(x [][]float64) { IQM(x) },
		"Mean":               func(x [][]float64) { Mean(x) },
		"Median":             func(x [][]float64) { Median(x) },
		"OptimalityGap":      func(x [][]float64) { OptimalityGap(x, 1) },
		"ProbImprovement":    func(x [][]float64) { ProbImprovement(x, m([]float64{0, 0})) },
		"PerformanceProfile": func(x [][]float64) { PerformanceProfile(x, []float64{0}) },
	} {
		mustPanic(t, name+" ragged", "ragged", func() { f(ragged) })
		mustPanic(t, name+" NaN", "NaN", func() { f(nan) })
	}
	mustPanic(t, "ProbImprovement tasks", "tasks", func() { ProbImprovement(m([]float64{1, 2}), m([]float64{1})) })
}

func TestPercentile(t *testing.T) {
	v := []float64{1, 2, 3, 4}
	for _, tc := range []struct{ p, want float64 }{
		{0, 1}, {25, 1.75}, {50, 2.5}, {75, 3.25}, {100, 4}, {2.5, 1.075}, {97.5, 3.925},
	} {
		if got := Percentile(v, tc.p); !close(got, tc.want, 1e-15) {
			t.Errorf("Percentile(%v, %v) = %v, want %v", v, tc.p, got, tc.want)
		}
	}
	if got := Percentile([]float64{7}, 30); got != 7 {
		t.Errorf("Percentile of one value = %v", got)
	}
	mustPanic(t, "empty", "no values", func() { Percentile(nil, 50) })
	mustPanic(t, "p > 100", "outside", func() { Percentile(v, 101) })
	mustPanic(t, "p NaN", "outside", func() { Percentile(v, math.NaN()) })
}

func TestProbImprovement(t *testing.T) {
	x := m([]float64{0.1, 0.5, 0.3}, []float64{0.4, 0.5, 0.3}, []float64{0.2, 0.9, 0.0})
	y := m([]float64{0.2, 0.5, 0.3}, []float64{0.3, 0.1, 0.3})
	for _, tc := range []struct {
		name string
		x, y [][]float64
		want float64
	}{
		{"X == Y", x, x, 0.5},
		{"dominates", m([]float64{2, 2}, []float64{3, 2.5}), m([]float64{1, 1}, []float64{0, 1.9}), 1},
		{"dominated", m([]float64{1, 1}), m([]float64{2, 2}, []float64{3, 3}), 0},
		{"all tied", m([]float64{1, 1}), m([]float64{1, 1}, []float64{1, 1}), 0.5},
		// Of the 3 × 2 pairs per task, x wins or ties (½):
		// task 0: 0.4 beats both, 0.2 ties 0.2 → 2.5;
		// task 1: each 0.5 ties 0.5 and beats 0.1, 0.9 beats both → 5;
		// task 2: each 0.3 ties both → 2.
		{"hand", x, y, (2.5 + 5 + 2) / 18},
	} {
		if got := ProbImprovement(tc.x, tc.y); !close(got, tc.want, 1e-15) {
			t.Errorf("%s: P(X > Y) = %v, want %v", tc.name, got, tc.want)
		}
		if got := ProbImprovement(tc.x, tc.y) + ProbImprovement(tc.y, tc.x); !close(got, 1, 1e-15) {
			t.Errorf("%s: P(X > Y) + P(Y > X) = %v, want 1", tc.name, got)
		}
	}
}

func TestTwiceWinsMatchesPairs(t *testing.T) {
	xs := []float64{0, 0, 0.5, 1, 1, 1, 2}
	ys := []float64{-1, 0, 0.5, 0.5, 1, 3}
	want := 0
	for _, a := range xs {
		for _, b := range ys {
			switch {
			case a > b:
				want += 2
			case a == b:
				want++
			}
		}
	}
	if got := twiceWins(xs, ys); got != want {
		t.Errorf("twiceWins = %d, want %d", got, want)
	}
}

func TestPerformanceProfileIsStrict(t *testing.T) {
	x := m([]float64{0, 0.5}, []float64{1, 0.5})
	got := PerformanceProfile(x, []float64{-1, 0, 0.25, 0.5, 1, 2})
	want := []float64{1, 0.75, 0.75, 0.25, 0, 0}
	if !slices.Equal(got, want) {
		t.Errorf("profile = %v, want %v", got, want)
	}
}

func fixture() [][]float64 {
	return m(
		[]float64{0.2, 0.9, 0.4, 0.1},
		[]float64{0.5, 0.7, 0.4, 0.0},
		[]float64{0.3, 0.8, 0.6, 0.3},
		[]float64{0.6, 1.0, 0.2, 0.2},
		[]float64{0.1, 0.6, 0.5, 0.1},
	)
}

func TestIndices(t *testing.T) {
	b := Bootstrap{Resamples: 50, Seed: 7}
	idx := b.Indices(5, 3)
	if len(idx) != 50 {
		t.Fatalf("%d resamples, want 50", len(idx))
	}
	seen := map[int]bool{}
	for _, r := range idx {
		if len(r) != 3 {
			t.Fatalf("%d tasks, want 3", len(r))
		}
		for _, row := range r {
			if len(row) != 5 {
				t.Fatalf("%d runs, want 5", len(row))
			}
			for _, k := range row {
				if k < 0 || k >= 5 {
					t.Fatalf("index %d outside [0, 5)", k)
				}
				seen[k] = true
			}
		}
	}
	if len(seen) != 5 {
		t.Errorf("only runs %v drawn", seen)
	}
	// Stratified: tasks of a resample are drawn independently.
	if slices.Equal(idx[0][0], idx[0][1]) && slices.Equal(idx[0][1], idx[0][2]) {
		t.Error("all tasks share one draw")
	}
	if got := len(Bootstrap{}.Indices(2, 1)); got != defaultResamples {
		t.Errorf("default resamples = %d, want %d", got, defaultResamples)
	}
	mustPanic(t, "no runs", "runs", func() { b.Indices(0, 3) })
	mustPanic(t, "negative resamples", "resamples", func() { Bootstrap{Resamples: -1}.Indices(2, 2) })
}

func TestBootstrapDeterministic(t *testing.T) {
	x := fixture()
	b := Bootstrap{Resamples: 500, Seed: 42}
	first, err := b.Aggregate(x, IQM)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := b.Aggregate(x, IQM)
	if first != again {
		t.Errorf("same seed: %v then %v", first, again)
	}
	if !slices.Equal(b.Indices(5, 4)[17][2], b.Indices(5, 4)[17][2]) {
		t.Error("Indices differ between calls")
	}
	other := Bootstrap{Resamples: 500, Seed: 43}.Indices(5, 4)
	if slices.EqualFunc(b.Indices(5, 4), other, func(a, b [][]int) bool { return slices.EqualFunc(a, b, slices.Equal) }) {
		t.Error("seeds 42 and 43 drew the same indices")
	}
}

// Aggregate streams its resamples; it must draw exactly what Indices
// returns, or published indices would not reproduce its intervals.
func TestAggregateEqualsAggregateWith(t *testing.T) {
	x := fixture()
	for _, b := range []Bootstrap{{Resamples: 300, Seed: 1}, {Resamples: 301, Seed: 9, Confidence: 0.8}} {
		for name, stat := range map[string]func([][]float64) float64{"IQM": IQM, "Mean": Mean, "Median": Median} {
			got, err := b.Aggregate(x, stat)
			if err != nil {
				t.Fatal(err)
			}
			want := AggregateWith(x, stat, b.Indices(len(x), len(x[0])), b.Confidence)
			if got != want {
				t.Errorf("%+v %s: Aggregate %v, AggregateWith %v", b, name, got, want)
			}
		}
	}
}

func TestProbImprovementCIEqualsWith(t *testing.T) {
	x, y := fixture(), fixture()[:3]
	b := Bootstrap{Resamples: 400, Seed: 3}
	got, err := b.ProbImprovementCI(x, y)
	if err != nil {
		t.Fatal(err)
	}
	ix, iy := b.Indices(len(x), 4), b.draw(streamY, len(y), 4)
	if want := ProbImprovementWith(x, y, ix, iy, 0); got != want {
		t.Errorf("ProbImprovementCI %v, ProbImprovementWith %v", got, want)
	}
	// With equal run counts the streams must still differ.
	if slices.Equal(b.Indices(5, 4)[0][0], b.draw(streamY, 5, 4)[0][0]) && slices.Equal(b.Indices(5, 4)[1][0], b.draw(streamY, 5, 4)[1][0]) {
		t.Error("X and Y streams coincide")
	}
}

func TestCIContainsPoint(t *testing.T) {
	x := fixture()
	y := m([]float64{0.1, 0.8, 0.3, 0.1}, []float64{0.4, 0.6, 0.2, 0.0}, []float64{0.2, 0.7, 0.5, 0.2})
	b := Bootstrap{Resamples: 2000, Seed: 11}
	for name, stat := range map[string]func([][]float64) float64{
		"IQM": IQM, "Mean": Mean, "Median": Median,
		"OptimalityGap": func(x [][]float64) float64 { return OptimalityGap(x, 1) },
	} {
		iv, err := b.Aggregate(x, stat)
		if err != nil {
			t.Fatal(err)
		}
		if !(iv.Lo <= iv.Point && iv.Point <= iv.Hi && iv.Lo < iv.Hi) {
			t.Errorf("%s: %+v does not contain its point or is degenerate", name, iv)
		}
	}
	iv, err := b.ProbImprovementCI(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if !(iv.Lo <= iv.Point && iv.Point <= iv.Hi && iv.Lo < iv.Hi && iv.Hi <= 1 && iv.Lo >= 0) {
		t.Errorf("P(X > Y): %+v", iv)
	}
	// A lower confidence gives a narrower interval on the same resamples.
	b.Confidence = 0.5
	narrow, _ := b.ProbImprovementCI(x, y)
	if !(narrow.Lo >= iv.Lo && narrow.Hi <= iv.Hi && narrow.Hi-narrow.Lo < iv.Hi-iv.Lo) {
		t.Errorf("50%% interval %+v not inside 95%% interval %+v", narrow, iv)
	}
}

func TestNaNStatGivesNaNBounds(t *testing.T) {
	calls := 0
	iv := AggregateWith(fixture(), func(x [][]float64) float64 {
		calls++
		if calls == 3 {
			return math.NaN()
		}
		return Mean(x)
	}, Bootstrap{Resamples: 10}.Indices(5, 4), 0)
	if math.IsNaN(iv.Point) || !math.IsNaN(iv.Lo) || !math.IsNaN(iv.Hi) {
		t.Errorf("got %+v, want a point and NaN bounds", iv)
	}
}

func TestBootstrapErrors(t *testing.T) {
	good := fixture()
	for _, tc := range []struct {
		name string
		b    Bootstrap
		x, y [][]float64
		want string
	}{
		{"no runs", Bootstrap{}, nil, good, "no runs"},
		{"no tasks", Bootstrap{}, m([]float64{}), good, "no tasks"},
		{"ragged", Bootstrap{}, m([]float64{1, 2}, []float64{1}), good, "ragged"},
		{"NaN", Bootstrap{}, m([]float64{1, math.NaN()}), good, "not finite"},
		{"Inf", Bootstrap{}, m([]float64{math.Inf(1), 1}), good, "not finite"},
		{"confidence", Bootstrap{Confidence: 1}, good, good, "confidence"},
		{"negative confidence", Bootstrap{Confidence: -0.5}, good, good, "confidence"},
		{"resamples", Bootstrap{Resamples: -3}, good, good, "resamples"},
		{"y ragged", Bootstrap{}, good, m([]float64{1, 2, 3, 4}, []float64{1}), "ragged"},
		{"y tasks", Bootstrap{}, good, m([]float64{1, 2}), "tasks"},
	} {
		_, err := tc.b.ProbImprovementCI(tc.x, tc.y)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ProbImprovementCI error %v, want %q", tc.name, err, tc.want)
		}
		if tc.x != nil && len(tc.x) > 0 && &tc.x[0] == &good[0] {
			continue // only y is bad
		}
		_, err = tc.b.Aggregate(tc.x, Mean)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Aggregate error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestWithPanics(t *testing.T) {
	x := fixture()
	idx := Bootstrap{Resamples: 5}.Indices(5, 4)
	bad := Bootstrap{Resamples: 5}.Indices(5, 4)
	bad[3][1][2] = 5
	mustPanic(t, "index out of range", "resample 3, task 1", func() { AggregateWith(x, Mean, bad, 0) })
	mustPanic(t, "wrong tasks", "tasks", func() { AggregateWith(x, Mean, Bootstrap{Resamples: 5}.Indices(5, 3), 0) })
	mustPanic(t, "wrong runs", "runs", func() { AggregateWith(x, Mean, Bootstrap{Resamples: 5}.Indices(4, 4), 0) })
	mustPanic(t, "no resamples", "without resamples", func() { AggregateWith(x, Mean, nil, 0) })
	mustPanic(t, "confidence", "confidence", func() { AggregateWith(x, Mean, idx, 1.5) })
	mustPanic(t, "resample counts", "resamples", func() { ProbImprovementWith(x, x, idx, idx[:4], 0) })
}

func TestPassAtK(t *testing.T) {
	for n := 1; n <= 40; n++ {
		for c := 0; c <= n; c++ {
			if got, want := PassAtK(n, c, 1), float64(c)/float64(n); !close(got, want, 1e-14) {
				t.Errorf("PassAtK(%d, %d, 1) = %v, want c/n = %v", n, c, got, want)
			}
			prev := 0.0
			for k := 1; k <= n; k++ {
				p := PassAtK(n, c, k)
				if p < prev-1e-15 || p < 0 || p > 1 {
					t.Errorf("PassAtK(%d, %d, %d) = %v after %v: not a non-decreasing probability", n, c, k, p, prev)
				}
				prev = p
			}
		}
	}
	for _, tc := range []struct {
		n, c, k int
		want    float64
	}{
		{10, 0, 5, 0}, {10, 10, 5, 1}, {10, 6, 5, 1}, {4, 2, 2, 1 - 1.0/6}, {5, 1, 5, 1},
		{2000, 1, 1000, 0.5}, // C(n, k) alone would overflow here
	} {
		if got := PassAtK(tc.n, tc.c, tc.k); !close(got, tc.want, 1e-12) {
			t.Errorf("PassAtK(%d, %d, %d) = %v, want %v", tc.n, tc.c, tc.k, got, tc.want)
		}
	}
	for _, a := range [][3]int{{5, 1, 0}, {5, 1, 6}, {5, -1, 1}, {5, 6, 1}, {0, 0, 1}} {
		mustPanic(t, fmt.Sprint("PassAtK", a), "PassAtK", func() { PassAtK(a[0], a[1], a[2]) })
	}
	if got := MeanPassAtK(4, []int{0, 2, 4}, 2); !close(got, (0+5.0/6+1)/3, 1e-15) {
		t.Errorf("MeanPassAtK = %v", got)
	}
	if got := MeanPassAtK(4, nil, 2); !math.IsNaN(got) {
		t.Errorf("MeanPassAtK of no prompts = %v, want NaN", got)
	}
}

// --- golden tests against testdata/rliable_reference.py ---

type refInterval struct{ Point, Lo, Hi float64 }

type reference struct {
	Resamples int
	Matrices  []struct {
		Name          string
		Scores        [][]float64
		Confidence    float64
		Gamma         float64
		Taus          []float64
		Indices       [][][]int
		IQM           refInterval
		Mean          refInterval
		Median        refInterval
		OptimalityGap refInterval `json:"optimality_gap"`
		Profile       struct{ Point, Lo, Hi []float64 }
	}
	Pairs []struct {
		Name              string
		X, Y              [][]float64
		Confidence        float64
		IndicesX          [][][]int   `json:"indices_x"`
		IndicesY          [][][]int   `json:"indices_y"`
		ProbImprovement   refInterval `json:"prob_improvement"`
		ProbImprovementYX float64     `json:"prob_improvement_yx"`
	}
	PassAtK []struct {
		N, C, K      int
		Numpy, Exact float64
	} `json:"pass_at_k"`
	MeanPassAtK []struct {
		N, K    int
		Correct []int
		Exact   float64
	} `json:"mean_pass_at_k"`
}

const (
	refScript = "testdata/rliable_reference.py"
	refJSON   = "testdata/rliable_reference.json"
)

func loadReference(t *testing.T) *reference {
	t.Helper()
	raw, err := os.ReadFile(refJSON)
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	// A truncated or hand-edited file must fail, not pass vacuously.
	if ref.Resamples < 100 || len(ref.Matrices) < 3 || len(ref.Pairs) < 3 || len(ref.PassAtK) < 20 || len(ref.MeanPassAtK) == 0 {
		t.Fatalf("%s: missing sections", refJSON)
	}
	for _, mc := range ref.Matrices {
		if len(mc.Indices) != ref.Resamples || len(mc.Profile.Point) != len(mc.Taus) {
			t.Fatalf("%s: %s: %d resamples, %d profile points for %d taus", refJSON, mc.Name, len(mc.Indices), len(mc.Profile.Point), len(mc.Taus))
		}
	}
	return &ref
}

func checkInterval(t *testing.T, what string, got Interval, want refInterval) {
	t.Helper()
	if !close(got.Point, want.Point, goldenTol) || !close(got.Lo, want.Lo, goldenTol) || !close(got.Hi, want.Hi, goldenTol) {
		t.Errorf("%s = %+v, numpy %+v", what, got, want)
	}
}

func TestGoldenAggregates(t *testing.T) {
	ref := loadReference(t)
	for _, mc := range ref.Matrices {
		t.Run(mc.Name, func(t *testing.T) {
			x, idx, c := mc.Scores, mc.Indices, mc.Confidence
			checkInterval(t, "IQM", AggregateWith(x, IQM, idx, c), mc.IQM)
			checkInterval(t, "Mean", AggregateWith(x, Mean, idx, c), mc.Mean)
			checkInterval(t, "Median", AggregateWith(x, Median, idx, c), mc.Median)
			gap := func(x [][]float64) float64 { return OptimalityGap(x, mc.Gamma) }
			checkInterval(t, "OptimalityGap", AggregateWith(x, gap, idx, c), mc.OptimalityGap)

			prof := PerformanceProfile(x, mc.Taus)
			for j, tau := range mc.Taus {
				at := func(x [][]float64) float64 { return PerformanceProfile(x, []float64{tau})[0] }
				iv := AggregateWith(x, at, idx, c)
				if iv.Point != prof[j] {
					t.Errorf("profile at %v: one-tau %v, all-taus %v", tau, iv.Point, prof[j])
				}
				checkInterval(t, fmt.Sprintf("profile at %v", tau), iv, refInterval{mc.Profile.Point[j], mc.Profile.Lo[j], mc.Profile.Hi[j]})
			}
		})
	}
}

func TestGoldenProbImprovement(t *testing.T) {
	ref := loadReference(t)
	for _, pc := range ref.Pairs {
		t.Run(pc.Name, func(t *testing.T) {
			got := ProbImprovementWith(pc.X, pc.Y, pc.IndicesX, pc.IndicesY, pc.Confidence)
			checkInterval(t, "P(X > Y)", got, pc.ProbImprovement)
			if yx := ProbImprovement(pc.Y, pc.X); !close(yx, pc.ProbImprovementYX, goldenTol) {
				t.Errorf("P(Y > X) = %v, numpy %v", yx, pc.ProbImprovementYX)
			}
		})
	}
}

func TestGoldenPassAtK(t *testing.T) {
	ref := loadReference(t)
	for _, pc := range ref.PassAtK {
		got := PassAtK(pc.N, pc.C, pc.K)
		if !close(got, pc.Exact, goldenTol) || !close(got, pc.Numpy, goldenTol) {
			t.Errorf("PassAtK(%d, %d, %d) = %v, exact %v, numpy %v", pc.N, pc.C, pc.K, got, pc.Exact, pc.Numpy)
		}
	}
	for _, mc := range ref.MeanPassAtK {
		if got := MeanPassAtK(mc.N, mc.Correct, mc.K); !close(got, mc.Exact, goldenTol) {
			t.Errorf("MeanPassAtK(%d, %v, %d) = %v, exact %v", mc.N, mc.Correct, mc.K, got, mc.Exact)
		}
	}
}

// TestReferenceIsCurrent reruns the reference script and checks that the
// committed JSON is what it writes, so the golden values cannot drift
// from the script that documents them.
func TestReferenceIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: reruns the Python reference script")
	}
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("skipping: %s not found", python)
	}
	if out, err := exec.Command(python, "-c", "import numpy, scipy").CombinedOutput(); err != nil {
		t.Skipf("skipping: %s cannot import numpy and scipy (%v: %s)", python, err, strings.TrimSpace(string(out)))
	}
	fresh := filepath.Join(t.TempDir(), "rliable_reference.json")
	if out, err := exec.Command(python, refScript, fresh).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", refScript, err, out)
	}
	var got, want map[string]any
	for p, v := range map[string]*map[string]any{fresh: &got, refJSON: &want} {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	// Other numpy or scipy versions may round differently in the last
	// bits; what they are called is no part of the reference.
	delete(got, "versions")
	delete(want, "versions")
	if diff := jsonDiff("", got, want); diff != "" {
		t.Errorf("%s is not what %s writes now (rerun it): %s", refJSON, refScript, diff)
	}
}

// jsonDiff is the first difference between decoded JSON values, with
// numbers equal to 1e-12.
func jsonDiff(path string, got, want any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: keys differ", path)
		}
		for k := range w {
			if d := jsonDiff(path+"."+k, g[k], w[k]); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: lengths differ", path)
		}
		for i := range w {
			if d := jsonDiff(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); d != "" {
				return d
			}
		}
	case float64:
		g, ok := got.(float64)
		if !ok || !close(g, w, 1e-12) {
			return fmt.Sprintf("%s: %v, committed %v", path, got, want)
		}
	default:
		if got != want {
			return fmt.Sprintf("%s: %v, committed %v", path, got, want)
		}
	}
	return ""
}
