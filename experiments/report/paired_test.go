package report

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// pairedReference mirrors testdata/paired_reference.json, written by
// testdata/paired_reference.py (scipy / numpy / exact arithmetic); null
// (NaN) entries decode as nil pointers.
type pairedReference struct {
	McNemar []struct {
		B, C   int
		P      float64
		PScipy float64 `json:"p_scipy"`
	} `json:"mcnemar"`
	MDEPairedT []struct {
		SD    float64 `json:"sd"`
		N     int     `json:"n"`
		Alpha float64 `json:"alpha"`
		Power float64 `json:"power"`
		MDE   *float64
	} `json:"mde_paired_t"`
	MDEFromSE []struct {
		SE    float64 `json:"se"`
		Alpha float64 `json:"alpha"`
		Power float64 `json:"power"`
		MDE   *float64
	} `json:"mde_from_se"`
	MDEProportionsPaired []struct {
		Psi   float64 `json:"psi"`
		N     int     `json:"n"`
		Alpha float64 `json:"alpha"`
		Power float64 `json:"power"`
		MDE   *float64
	} `json:"mde_proportions_paired"`
	Holm []struct {
		P   []*float64 `json:"p"`
		Adj []*float64 `json:"adj"`
	} `json:"holm"`
	Bootstrap struct {
		A, B      [][]float64
		Resamples int     `json:"resamples"`
		Diff      float64 `json:"diff"`
		SE        float64 `json:"se"`
		SEPlugin  float64 `json:"se_plugin"`
		Lo, Hi, P float64
	} `json:"bootstrap"`
}

func loadPairedReference(t *testing.T) *pairedReference {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "paired_reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref pairedReference
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.McNemar) == 0 || len(ref.Holm) == 0 || len(ref.Bootstrap.A) == 0 {
		t.Fatal("paired_reference.json: missing sections")
	}
	return &ref
}

func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func orNaNs(ps []*float64) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = orNaN(p)
	}
	return out
}

// sameFloat: both NaN, or within abs + rel·|want|.
func sameFloat(got, want, abs, rel float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	return math.Abs(got-want) <= abs+rel*math.Abs(want)
}

func TestMcNemarHand(t *testing.T) {
	for _, tc := range []struct {
		b, c int
		want float64
	}{
		{0, 0, 1},
		{1, 0, 1},
		{0, 1, 1},
		{2, 1, 1},
		{3, 3, 1},
		{10, 11, 1},
		{0, 5, 0.0625},      // 2·2⁻⁵
		{5, 0, 0.0625},      // symmetric
		{1, 6, 0.125},       // 2·(1+7)/2⁷
		{12, 3, 0.03515625}, // 2·(1+15+105+455)/2¹⁵
		{0, 20, math.Ldexp(1, -19)},
		{0, 1074, math.Ldexp(1, -1073)},
		{0, 1075, math.Ldexp(1, -1074)}, // smallest subnormal
		{0, 1076, 0},                    // underflow
		{-1, 3, math.NaN()},
		{3, -1, math.NaN()},
	} {
		got := McNemar(tc.b, tc.c)
		if !sameFloat(got, tc.want, 0, 1e-14) {
			t.Errorf("McNemar(%d, %d) = %.17g, want %.17g", tc.b, tc.c, got, tc.want)
		}
	}
}

// TestMcNemarReference compares with exact rational arithmetic (cross-checked
// against scipy.stats.binomtest by the generator) for b+c up to 1e5, and
// with gonum's regularised-incomplete-beta binomial CDF.
func TestMcNemarReference(t *testing.T) {
	ref := loadPairedReference(t)
	worst := 0.0
	for _, r := range ref.McNemar {
		got := McNemar(r.B, r.C)
		switch {
		case r.P < 1e-300: // underflows: only the order of magnitude matters
			if got > 1e-300 || got < 0 {
				t.Errorf("McNemar(%d, %d) = %g, want %g", r.B, r.C, got, r.P)
			}
		case !sameFloat(got, r.P, 0, 1e-9):
			t.Errorf("McNemar(%d, %d) = %.17g, want %.17g (scipy %.17g)", r.B, r.C, got, r.P, r.PScipy)
		default:
			worst = max(worst, math.Abs(got-r.P)/r.P)
		}
		if math.Abs(got-r.PScipy) > 1e-9 {
			t.Errorf("McNemar(%d, %d) = %.17g, scipy.stats.binomtest %.17g", r.B, r.C, got, r.PScipy)
		}
		if n := r.B + r.C; n > 0 {
			g := math.Min(1, 2*distuv.Binomial{N: float64(n), P: 0.5}.CDF(float64(min(r.B, r.C))))
			if math.Abs(got-g) > 1e-9 {
				t.Errorf("McNemar(%d, %d) = %.17g, gonum binomial CDF %.17g", r.B, r.C, got, g)
			}
		}
	}
	t.Logf("worst relative error against exact arithmetic: %.3g", worst)
}

func TestMcNemarShape(t *testing.T) {
	for _, n := range []int{1, 2, 7, 30, 101, 1000, 20001} {
		prev := 1.0
		for b := n / 2; b >= 0; b-- {
			p := McNemar(b, n-b)
			if p != McNemar(n-b, b) {
				t.Fatalf("McNemar(%d, %d) = %v ≠ McNemar(%d, %d) = %v", b, n-b, p, n-b, b, McNemar(n-b, b))
			}
			if !(p >= 0 && p <= prev*(1+1e-12)) {
				t.Fatalf("n=%d: McNemar(%d, %d) = %v not in [0, %v]: not monotone", n, b, n-b, p, prev)
			}
			prev = p
		}
	}
}

// The Loader pmf must sum to one over the support.
func TestBinomHalfPMFSumsToOne(t *testing.T) {
	for _, n := range []int{1, 2, 15, 16, 36, 81, 501, 1000, 4097} {
		s := 0.0
		for k := 0; k <= n; k++ {
			s += binomHalfPMF(k, n)
		}
		if math.Abs(s-1) > 1e-12 {
			t.Errorf("n=%d: Σ pmf = %.17g", n, s)
		}
	}
}

func TestHolmHand(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name     string
		ps, want []float64
	}{
		{"brief", []float64{0.01, 0.04, 0.03}, []float64{0.03, 0.06, 0.06}},
		{"nil", nil, []float64{}},
		{"single", []float64{0.2}, []float64{0.2}},
		{"zero", []float64{0, 0.5}, []float64{0, 0.5}},
		{"cap", []float64{0.6, 0.7}, []float64{1, 1}},
		{"ties", []float64{0.02, 0.02, 0.02}, []float64{0.06, 0.06, 0.06}},
		{"nan kept, not counted", []float64{nan, 0.01, 0.04}, []float64{nan, 0.02, 0.04}},
		{"all nan", []float64{nan, nan}, []float64{nan, nan}},
		{"monotone", []float64{0.001, 0.013, 0.0125}, []float64{0.003, 0.025, 0.025}},
	} {
		in := slices.Clone(tc.ps)
		got := Holm(tc.ps)
		if len(got) != len(tc.want) {
			t.Errorf("%s: Holm(%v) = %v, want %v", tc.name, tc.ps, got, tc.want)
			continue
		}
		for i := range got {
			if !sameFloat(got[i], tc.want[i], 1e-15, 0) {
				t.Errorf("%s: Holm(%v) = %v, want %v", tc.name, tc.ps, got, tc.want)
				break
			}
		}
		for i := range in {
			if !sameFloat(in[i], tc.ps[i], 0, 0) {
				t.Errorf("%s: Holm modified its input", tc.name)
			}
		}
	}
}

func TestHolmReference(t *testing.T) {
	ref := loadPairedReference(t)
	for _, r := range ref.Holm {
		ps, want := orNaNs(r.P), orNaNs(r.Adj)
		got := Holm(ps)
		if len(got) != len(want) {
			t.Fatalf("Holm(%v): %d values, want %d", ps, len(got), len(want))
		}
		for i := range got {
			if !sameFloat(got[i], want[i], 1e-9, 0) {
				t.Errorf("Holm(%v)[%d] = %v, want %v", ps, i, got[i], want[i])
			}
		}
	}
}

func TestPairedPromptsErrors(t *testing.T) {
	ok := [][]float64{{1, 0}, {0, 1}}
	rng := func() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }
	for _, tc := range []struct {
		name      string
		a, b      [][]float64
		resamples int
		rng       *rand.Rand
	}{
		{"no seeds", nil, nil, 100, rng()},
		{"no seeds in b", ok, nil, 100, rng()},
		{"seed count", ok, ok[:1], 100, rng()},
		{"no prompts", [][]float64{{}}, [][]float64{{}}, 100, rng()},
		{"ragged a", [][]float64{{1, 0}, {1}}, ok, 100, rng()},
		{"ragged b", ok, [][]float64{{1, 0}, {1, 0, 1}}, 100, rng()},
		{"prompt count", [][]float64{{1, 0, 1}}, [][]float64{{1, 0}}, 100, rng()},
		{"NaN", [][]float64{{1, math.NaN()}}, [][]float64{{1, 0}}, 100, rng()},
		{"Inf", [][]float64{{1, 0}}, [][]float64{{math.Inf(-1), 0}}, 100, rng()},
		{"zero resamples", ok, ok, 0, rng()},
		{"nil rng", ok, ok, 100, nil},
	} {
		if res, err := PairedPrompts(tc.a, tc.b, tc.resamples, tc.rng); err == nil {
			t.Errorf("%s: no error, got %+v", tc.name, res)
		}
	}
}

// pairedFixture: 4 seeds × 60 prompts of 0/1 outcomes with a prompt effect
// and A better on average.
func pairedFixture() (a, b [][]float64) {
	rng := rand.New(rand.NewPCG(11, 12))
	const seeds, n = 4, 60
	q := make([]float64, n)
	for j := range q {
		q[j] = rng.Float64()
	}
	a, b = make([][]float64, seeds), make([][]float64, seeds)
	for s := range seeds {
		a[s], b[s] = make([]float64, n), make([]float64, n)
		for j := range n {
			if rng.Float64() < min(1, q[j]+0.15) {
				a[s][j] = 1
			}
			if rng.Float64() < q[j] {
				b[s][j] = 1
			}
		}
	}
	return a, b
}

func TestPairedPromptsDeterministic(t *testing.T) {
	a, b := pairedFixture()
	r1, err := PairedPrompts(a, b, 2000, KeyedRNG(7, "cell"))
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := PairedPrompts(a, b, 2000, KeyedRNG(7, "cell"))
	if r1 != r2 {
		t.Errorf("same RNG state, different results:\n%+v\n%+v", r1, r2)
	}
	r3, _ := PairedPrompts(a, b, 2000, KeyedRNG(8, "cell"))
	if r3 == r1 {
		t.Errorf("different RNG, identical result %+v", r1)
	}
	if r3.Diff != r1.Diff {
		t.Errorf("Diff depends on the RNG: %v vs %v", r1.Diff, r3.Diff)
	}
}

func TestPairedPromptsCoversDiff(t *testing.T) {
	a, b := pairedFixture()
	for seed := range uint64(20) {
		r, err := PairedPrompts(a, b, 1000, KeyedRNG(seed, "cover"))
		if err != nil {
			t.Fatal(err)
		}
		if !(r.Lo <= r.Diff && r.Diff <= r.Hi) || !(r.Lo < r.Hi) {
			t.Errorf("seed %d: CI [%v, %v] does not cover d̂ = %v", seed, r.Lo, r.Hi, r.Diff)
		}
		if !(r.SE > 0) || !(r.P >= 1.0/1001 && r.P <= 1) {
			t.Errorf("seed %d: SE %v, P %v", seed, r.SE, r.P)
		}
		if r.N != 60 || r.Seeds != 4 || r.Resamples != 1000 {
			t.Errorf("seed %d: N %d, Seeds %d, Resamples %d", seed, r.N, r.Seeds, r.Resamples)
		}
	}
}

func TestPairedPromptsConstantShift(t *testing.T) {
	// Dyadic values: a−b is exactly 0.25 everywhere.
	b := [][]float64{{0, 0.5, 0.125, 1, 0.75}, {0.25, 0.5, 0, 0.375, 1}}
	a := make([][]float64, len(b))
	for s := range b {
		for _, x := range b[s] {
			a[s] = append(a[s], x+0.25)
		}
	}
	const B = 999
	r, err := PairedPrompts(a, b, B, KeyedRNG(1, "shift"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Diff != 0.25 || r.Lo != 0.25 || r.Hi != 0.25 || r.SE != 0 {
		t.Errorf("constant shift 0.25: got %+v", r)
	}
	if r.P != 1.0/(B+1) {
		t.Errorf("constant shift: P = %v, want 1/(B+1) = %v", r.P, 1.0/(B+1))
	}
}

func TestPairedPromptsSwap(t *testing.T) {
	a, b := pairedFixture()
	ab, _ := PairedPrompts(a, b, 3000, KeyedRNG(3, "swap"))
	ba, _ := PairedPrompts(b, a, 3000, KeyedRNG(3, "swap"))
	if ba.Diff != -ab.Diff || !sameFloat(ba.Lo, -ab.Hi, 1e-12, 0) || !sameFloat(ba.Hi, -ab.Lo, 1e-12, 0) {
		t.Errorf("swap: A−B %+v, B−A %+v", ab, ba)
	}
	if ba.P != ab.P || !sameFloat(ba.SE, ab.SE, 1e-15, 1e-12) {
		t.Errorf("swap changed P or SE: %+v vs %+v", ab, ba)
	}
}

func TestPairedPromptsAllWins(t *testing.T) {
	const seeds, n, B = 3, 25, 1999
	a, b := make([][]float64, seeds), make([][]float64, seeds)
	for s := range seeds {
		a[s], b[s] = make([]float64, n), make([]float64, n)
		for j := range n {
			a[s][j] = 1
		}
	}
	r, err := PairedPrompts(a, b, B, KeyedRNG(5, "wins"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Diff != 1 || r.Lo != 1 || r.Hi != 1 || r.P != 1.0/(B+1) {
		t.Errorf("A wins everywhere: %+v, want Diff = Lo = Hi = 1, P = %v", r, 1.0/(B+1))
	}
}

// TestPairedPromptsEdgeCases: NaN in a want field means "not checked".
func TestPairedPromptsEdgeCases(t *testing.T) {
	nan := math.NaN()
	const B = 499
	for _, tc := range []struct {
		name                string
		a, b                [][]float64
		diff, lo, hi, p, se float64
		wantN, wantSeeds    int
	}{
		{"identical", [][]float64{{0.3, 0.7, 0.1}, {0.9, 0.2, 0.4}}, [][]float64{{0.3, 0.7, 0.1}, {0.9, 0.2, 0.4}}, 0, 0, 0, 1, 0, 3, 2},
		{"single prompt win", [][]float64{{1}}, [][]float64{{0}}, 1, 1, 1, 1.0 / (B + 1), 0, 1, 1},
		{"single prompt tie", [][]float64{{1}, {0}}, [][]float64{{1}, {0}}, 0, 0, 0, 1, 0, 1, 2},
		{"single prompt, seeds disagree", [][]float64{{1}, {0}}, [][]float64{{0}, {1}}, 0, 0, 0, 1, 0, 1, 2},
		// Seed effects cancel within every prompt: seeds are not resampled,
		// so there is no variability at all.
		{"seed effects cancel", [][]float64{{1, 1, 1}, {0, 0, 0}}, [][]float64{{0, 0, 0}, {1, 1, 1}}, 0, 0, 0, 1, 0, 3, 2},
		// Prompt effects cancel overall: d̂ = 0 so every replicate is at
		// least as extreme and P = 1, but the interval is not degenerate.
		{"prompt effects cancel", [][]float64{{1, 0, 1, 0}}, [][]float64{{0, 1, 0, 1}}, 0, nan, nan, 1, nan, 4, 1},
		{"negative rewards", [][]float64{{-2, -2}}, [][]float64{{-1, -1}}, -1, -1, -1, 1.0 / (B + 1), 0, 2, 1},
		{"one seed binary", [][]float64{{1, 1, 0, 1, 0, 1, 1, 1}}, [][]float64{{0, 1, 0, 0, 0, 1, 0, 1}}, 0.375, nan, nan, nan, nan, 8, 1},
	} {
		r, err := PairedPrompts(tc.a, tc.b, B, KeyedRNG(9, tc.name))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		check := func(field string, got, want float64) {
			if !math.IsNaN(want) && !sameFloat(got, want, 1e-15, 1e-12) {
				t.Errorf("%s: %s = %v, want %v (%+v)", tc.name, field, got, want, r)
			}
		}
		check("Diff", r.Diff, tc.diff)
		check("Lo", r.Lo, tc.lo)
		check("Hi", r.Hi, tc.hi)
		check("P", r.P, tc.p)
		check("SE", r.SE, tc.se)
		if !(r.Lo <= r.Hi) || r.P <= 0 || r.P > 1 || r.SE < 0 {
			t.Errorf("%s: inconsistent result %+v", tc.name, r)
		}
		if r.N != tc.wantN || r.Seeds != tc.wantSeeds || r.Resamples != B {
			t.Errorf("%s: N %d Seeds %d Resamples %d", tc.name, r.N, r.Seeds, r.Resamples)
		}
	}
	// One replicate: SE is 0 (no spread), the interval is that replicate.
	r, err := PairedPrompts([][]float64{{1, 0, 1}}, [][]float64{{0, 0, 1}}, 1, KeyedRNG(1, "one"))
	if err != nil || r.Lo != r.Hi || r.SE != 0 || r.Resamples != 1 {
		t.Errorf("one replicate: %+v, %v", r, err)
	}
}

// TestPairedPromptsDefinition recomputes every replicate from the definition
// (mean over all seeds and the drawn prompts, one draw shared by the seeds)
// with the same random stream and checks the fast per-prompt-average path.
func TestPairedPromptsDefinition(t *testing.T) {
	a, b := pairedFixture()
	const B = 500
	got, err := PairedPrompts(a, b, B, KeyedRNG(2, "def"))
	if err != nil {
		t.Fatal(err)
	}
	rng := KeyedRNG(2, "def")
	n := len(a[0])
	reps := make([]float64, B)
	idx := make([]int, n)
	for r := range reps {
		for j := range idx {
			idx[j] = rng.IntN(n)
		}
		s := 0.0
		for seed := range a {
			for _, j := range idx {
				s += a[seed][j] - b[seed][j]
			}
		}
		reps[r] = s / float64(len(a)*n)
	}
	slices.Sort(reps)
	if !sameFloat(got.Lo, Quantile(reps, 0.025), 1e-12, 0) || !sameFloat(got.Hi, Quantile(reps, 0.975), 1e-12, 0) ||
		!sameFloat(got.SE, SampleSD(reps), 1e-12, 0) {
		t.Errorf("got %+v; definition: Lo %v Hi %v SE %v", got, Quantile(reps, 0.025), Quantile(reps, 0.975), SampleSD(reps))
	}
}

// TestPairedPromptsReference compares with an independent numpy bootstrap
// (20000 replicates, a different random stream) on a fixed dataset: Diff
// exactly, SE within 10% (also of the B → ∞ plug-in value), interval ends
// within a quarter SE, P within 0.03.
func TestPairedPromptsReference(t *testing.T) {
	ref := loadPairedReference(t).Bootstrap
	r, err := PairedPrompts(ref.A, ref.B, 5000, KeyedRNG(2024, "numpy"))
	if err != nil {
		t.Fatal(err)
	}
	if !sameFloat(r.Diff, ref.Diff, 1e-12, 0) {
		t.Errorf("Diff %v, numpy %v", r.Diff, ref.Diff)
	}
	if math.Abs(r.SE/ref.SE-1) > 0.1 || math.Abs(r.SE/ref.SEPlugin-1) > 0.1 {
		t.Errorf("SE %v, numpy bootstrap %v, plug-in %v", r.SE, ref.SE, ref.SEPlugin)
	}
	if math.Abs(r.Lo-ref.Lo) > 0.25*ref.SE || math.Abs(r.Hi-ref.Hi) > 0.25*ref.SE {
		t.Errorf("CI [%v, %v], numpy [%v, %v]", r.Lo, r.Hi, ref.Lo, ref.Hi)
	}
	if math.Abs(r.P-ref.P) > 0.03 {
		t.Errorf("P %v, numpy %v", r.P, ref.P)
	}
	if r.N != len(ref.A[0]) || r.Seeds != len(ref.A) {
		t.Errorf("N %d Seeds %d", r.N, r.Seeds)
	}
	t.Logf("Go %+v\nnumpy diff %v lo %v hi %v p %v se %v (plug-in %v)", r, ref.Diff, ref.Lo, ref.Hi, ref.P, ref.SE, ref.SEPlugin)
}
