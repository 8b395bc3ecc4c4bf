package report

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// Quantile-based values are compared within 1e-6 (relative above 1).
const quantileTol = 1e-6

func TestMDEPairedTReference(t *testing.T) {
	for _, r := range loadPairedReference(t).MDEPairedT {
		got, want := MDEPairedT(r.SD, r.N, r.Alpha, r.Power), orNaN(r.MDE)
		if !sameFloat(got, want, quantileTol, quantileTol) {
			t.Errorf("MDEPairedT(%v, %d, %v, %v) = %.12g, scipy %.12g", r.SD, r.N, r.Alpha, r.Power, got, want)
		}
	}
}

func TestMDEFromSEReference(t *testing.T) {
	for _, r := range loadPairedReference(t).MDEFromSE {
		got, want := MDEFromSE(r.SE, r.Alpha, r.Power), orNaN(r.MDE)
		if !sameFloat(got, want, quantileTol, quantileTol) {
			t.Errorf("MDEFromSE(%v, %v, %v) = %.12g, scipy %.12g", r.SE, r.Alpha, r.Power, got, want)
		}
	}
}

func TestMDEProportionsPairedReference(t *testing.T) {
	for _, r := range loadPairedReference(t).MDEProportionsPaired {
		got, want := MDEProportionsPaired(r.Psi, r.N, r.Alpha, r.Power), orNaN(r.MDE)
		if !sameFloat(got, want, quantileTol, quantileTol) {
			t.Errorf("MDEProportionsPaired(%v, %d, %v, %v) = %.12g, scipy brentq %.12g", r.Psi, r.N, r.Alpha, r.Power, got, want)
		}
	}
}

func TestMDEEdgeCases(t *testing.T) {
	nan := math.NaN()
	z975 := 1.959963984540054
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"FromSE power 1/2 is z", MDEFromSE(1, 0.05, 0.5), z975},
		{"FromSE scales", MDEFromSE(0.5, 0.05, 0.5), z975 / 2},
		{"FromSE se 0", MDEFromSE(0, 0.05, 0.8), 0},
		{"FromSE se < 0", MDEFromSE(-1, 0.05, 0.8), nan},
		{"FromSE se NaN", MDEFromSE(nan, 0.05, 0.8), nan},
		{"FromSE se Inf", MDEFromSE(math.Inf(1), 0.05, 0.8), nan},
		{"FromSE alpha 0", MDEFromSE(1, 0, 0.8), nan},
		{"FromSE alpha 1", MDEFromSE(1, 1, 0.8), nan},
		{"FromSE power 0", MDEFromSE(1, 0.05, 0), nan},
		{"FromSE power 1", MDEFromSE(1, 0.05, 1), nan},
		{"FromSE alpha NaN", MDEFromSE(1, nan, 0.8), nan},
		// n = 2, power 1/2: t_{0.975, 1} = tan(0.475π) = 12.7062…
		{"PairedT n=2", MDEPairedT(1, 2, 0.05, 0.5), math.Tan(0.475*math.Pi) / math.Sqrt2},
		{"PairedT n=1", MDEPairedT(1, 1, 0.05, 0.8), nan},
		{"PairedT n=0", MDEPairedT(1, 0, 0.05, 0.8), nan},
		{"PairedT sd < 0", MDEPairedT(-1, 10, 0.05, 0.8), nan},
		{"PairedT sd NaN", MDEPairedT(nan, 10, 0.05, 0.8), nan},
		{"PairedT sd 0", MDEPairedT(0, 10, 0.05, 0.8), 0},
		{"PairedT power 1", MDEPairedT(1, 10, 0.05, 1), nan},
		{"PairedT alpha 0", MDEPairedT(1, 10, 0, 0.8), nan},
		{"Prop psi 0", MDEProportionsPaired(0, 100, 0.05, 0.8), nan},
		{"Prop psi > 1", MDEProportionsPaired(1.1, 100, 0.05, 0.8), nan},
		{"Prop psi NaN", MDEProportionsPaired(nan, 100, 0.05, 0.8), nan},
		{"Prop n 0", MDEProportionsPaired(0.2, 0, 0.05, 0.8), nan},
		{"Prop n < z²", MDEProportionsPaired(1, 3, 0.05, 0.8), nan},
		{"Prop too few pairs", MDEProportionsPaired(0.05, 20, 0.05, 0.8), nan},
		{"Prop power 0", MDEProportionsPaired(0.2, 100, 0.05, 0), nan},
		// Power 1/2: δ = z·√(ψ/n) exactly.
		{"Prop power 1/2", MDEProportionsPaired(0.2, 400, 0.05, 0.5), z975 * math.Sqrt(0.2/400)},
	} {
		if !sameFloat(tc.got, tc.want, quantileTol, quantileTol) {
			t.Errorf("%s: got %.12g, want %.12g", tc.name, tc.got, tc.want)
		}
	}
}

// MDEProportionsPaired must solve Connor's equation (not just its square),
// stay within |δ| ≤ ψ and shrink as n grows.
func TestMDEProportionsPairedSolvesConnor(t *testing.T) {
	for _, alpha := range []float64{0.01, 0.05, 0.1} {
		for _, power := range []float64{0.3, 0.5, 0.8, 0.9, 0.99} {
			za := distuv.UnitNormal.Quantile(1 - alpha/2)
			zb := distuv.UnitNormal.Quantile(power)
			for _, psi := range []float64{0.01, 0.1, 0.3, 0.7, 1} {
				prev := math.Inf(1)
				for _, n := range []int{1, 2, 5, 10, 30, 100, 1000, 100000} {
					d := MDEProportionsPaired(psi, n, alpha, power)
					if math.IsNaN(d) {
						if !math.IsInf(prev, 1) {
							t.Errorf("α=%v power=%v ψ=%v: NaN at n=%d after a finite MDE at fewer pairs", alpha, power, psi, n)
						}
						continue
					}
					lhs := d * math.Sqrt(float64(n))
					rhs := za*math.Sqrt(psi) + zb*math.Sqrt(psi-d*d)
					if math.Abs(lhs-rhs) > 1e-12*(1+math.Abs(rhs)) || d < 0 || d > psi || d >= prev {
						t.Errorf("α=%v power=%v ψ=%v n=%d: δ=%v, δ√n=%v vs %v (prev %v)", alpha, power, psi, n, d, lhs, rhs, prev)
					}
					prev = d
				}
				if math.IsInf(prev, 1) {
					t.Errorf("α=%v power=%v ψ=%v: never detectable", alpha, power, psi)
				}
			}
		}
	}
}

// For many pairs the t quantiles approach the normal ones.
func TestMDEPairedTLargeN(t *testing.T) {
	const sd, n = 2.0, 1000000
	got := MDEPairedT(sd, n, 0.05, 0.8)
	want := MDEFromSE(sd/math.Sqrt(n), 0.05, 0.8)
	if math.Abs(got/want-1) > 1e-5 {
		t.Errorf("MDEPairedT(n=1e6) = %v, z version %v", got, want)
	}
}
