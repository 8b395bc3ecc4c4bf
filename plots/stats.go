package plots

import (
	"github.com/grao-lab/grao/experiments/report"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// CIMethod picks how 95% intervals across seeds are computed; it is the
// report's type, so tables and figures agree. Figures default to
// CIStudentT: with the 3–5 seeds a sweep usually has, a bootstrap over so
// few values is too narrow.
type CIMethod = report.CIMethod

// The interval methods.
const (
	CIStudentT  = report.CIStudentT
	CIBootstrap = report.CIBootstrap
)

// describeCI is the interval's name for captions and legends.
func describeCI(m CIMethod) string {
	if m == CIBootstrap {
		return "95% percentile-bootstrap interval"
	}
	return "95% t-interval"
}

// The report's estimators, under the short names the figure code uses.
var (
	mean     = report.Mean
	sampleSD = report.SampleSD
	keyedRNG = report.KeyedRNG
	quantile = report.Quantile
	interval = report.Interval
)

// ratioCI is the relative improvement mean(a)/mean(b) − 1 (the quantity
// `bench report` tabulates) with a 95% percentile-bootstrap interval:
// seeds are resampled jointly when a and b are paired by seed, separately
// otherwise. Resamples whose baseline mean is ≤ 0 are dropped (the ratio is
// undefined there); ok is false when either side has fewer than two values
// or the baseline mean is ≤ 0.
func ratioCI(a, b []float64, paired bool, resamples int, rng *rand.Rand) (r, lo, hi float64, ok bool) {
	mb := mean(b)
	if len(a) == 0 || len(b) == 0 || mb <= 0 {
		return math.NaN(), math.NaN(), math.NaN(), false
	}
	r = mean(a)/mb - 1
	if len(a) < 2 || len(b) < 2 {
		return r, math.NaN(), math.NaN(), false
	}
	rs := make([]float64, 0, resamples)
	for range resamples {
		var sa, sb float64
		if paired {
			for range len(a) {
				i := rng.IntN(len(a))
				sa += a[i]
				sb += b[i]
			}
		} else {
			for range len(a) {
				sa += a[rng.IntN(len(a))]
			}
			for range len(b) {
				sb += b[rng.IntN(len(b))]
			}
		}
		sa /= float64(len(a))
		sb /= float64(len(b))
		if sb > 0 {
			rs = append(rs, sa/sb-1)
		}
	}
	if len(rs) < resamples/2 {
		return r, math.NaN(), math.NaN(), false
	}
	sort.Float64s(rs)
	return r, quantile(rs, 0.025), quantile(rs, 0.975), true
}

// fiellerCI is the 95% Fieller interval of the ratio mean(a)/mean(b),
// built on Student's t (honest with 3–5 seeds, where a bootstrap has only
// a handful of distinct resamples). Paired data use the covariance of the
// pairs; unpaired data use df = min(na, nb) − 1, which is conservative.
// ok is false when the interval is unbounded, which happens when the
// baseline mean is not clearly away from zero.
func fiellerCI(a, b []float64, paired bool) (lo, hi float64, ok bool) {
	na, nb := float64(len(a)), float64(len(b))
	if len(a) < 2 || len(b) < 2 {
		return math.NaN(), math.NaN(), false
	}
	ma, mb := mean(a), mean(b)
	saa, sbb := sampleSD(a), sampleSD(b)
	saa, sbb = saa*saa, sbb*sbb
	var vaa, vbb, vab, df float64
	if paired && len(a) == len(b) {
		sab := 0.0
		for i := range a {
			sab += (a[i] - ma) * (b[i] - mb)
		}
		sab /= na - 1
		vaa, vbb, vab, df = saa/na, sbb/na, sab/na, na-1
	} else {
		vaa, vbb, df = saa/na, sbb/nb, math.Min(na, nb)-1
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(0.975)
	t2 := t * t
	// (ma − ρ mb)² ≤ t² (vaa − 2ρ vab + ρ² vbb) ⇔ qa ρ² − 2 qb ρ + qc ≤ 0.
	qa := mb*mb - t2*vbb
	qb := ma*mb - t2*vab
	qc := ma*ma - t2*vaa
	disc := qb*qb - qa*qc
	if qa <= 0 || disc < 0 {
		return math.NaN(), math.NaN(), false
	}
	r := math.Sqrt(disc)
	return (qb - r) / qa, (qb + r) / qa, true
}
