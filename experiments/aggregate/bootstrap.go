package aggregate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Interval is a point estimate with a percentile bootstrap CI.
type Interval struct{ Point, Lo, Hi float64 }

// Bootstrap configures stratified bootstrap CIs. The zero value is usable:
// 10000 resamples, seed 0, 95% intervals.
type Bootstrap struct {
	Resamples  int     // resamples drawn (default 10000 when 0)
	Seed       uint64  // seeds the PCG; the same seed gives the same intervals
	Confidence float64 // interval coverage in (0, 1) (default 0.95 when 0)
}

const (
	defaultResamples  = 10000
	defaultConfidence = 0.95
)

// The second words of the PCG seeds. Fixed, so that results depend only on
// Bootstrap.Seed; different, so that with equal run counts X and Y of
// ProbImprovementCI do not get the same indices: that would resample them
// jointly, as if run i of X were paired with run i of Y, which nothing
// pairs. The
// values are the splitmix64 constants: arbitrary, but dense in bits.
const (
	streamX uint64 = 0x9e3779b97f4a7c15
	streamY uint64 = 0xbf58476d1ce4e5b9
)

func (b Bootstrap) resamples() int {
	if b.Resamples == 0 {
		return defaultResamples
	}
	return b.Resamples
}

func (b Bootstrap) check() error {
	if b.Resamples < 0 {
		return fmt.Errorf("aggregate: %d resamples", b.Resamples)
	}
	if b.Confidence != 0 && !(b.Confidence > 0 && b.Confidence < 1) {
		return fmt.Errorf("aggregate: confidence %v outside (0, 1)", b.Confidence)
	}
	return nil
}

func confidenceOr(c float64) float64 {
	if c == 0 {
		return defaultConfidence
	}
	return c
}

// sampler draws stratified resample indices; Indices, Aggregate and
// ProbImprovementCI all draw through it in the same order (resample, then
// task, then run), which is what makes Aggregate equal AggregateWith on
// Indices without Aggregate holding every resample in memory.
type sampler struct {
	rng  *rand.Rand
	runs int
}

func newSampler(seed, stream uint64, runs int) *sampler {
	return &sampler{rng: rand.New(rand.NewPCG(seed, stream)), runs: runs}
}

// next fills idx[task][i] with the next resample.
func (s *sampler) next(idx [][]int) {
	for _, row := range idx {
		for i := range row {
			row[i] = s.rng.IntN(s.runs)
		}
	}
}

// indexBlock is a tasks × runs index array on one allocation.
func indexBlock(tasks, runs int) [][]int {
	flat := make([]int, tasks*runs)
	idx := make([][]int, tasks)
	for t := range idx {
		idx[t] = flat[t*runs : (t+1)*runs : (t+1)*runs]
	}
	return idx
}

// draw is Indices from the given stream.
func (b Bootstrap) draw(stream uint64, runs, tasks int) [][][]int {
	if b.Resamples < 0 {
		panic(fmt.Sprintf("aggregate: %d resamples", b.Resamples))
	}
	if runs < 1 || tasks < 0 {
		panic(fmt.Sprintf("aggregate: Indices for %d runs × %d tasks", runs, tasks))
	}
	s := newSampler(b.Seed, stream, runs)
	out := make([][][]int, b.resamples())
	for r := range out {
		out[r] = indexBlock(tasks, runs)
		s.next(out[r])
	}
	return out
}

// Indices draws the resample indices: idx[b][task][i] is the run index
// used as run i of task `task` in resample b. Runs are drawn with
// replacement independently within each task (a stratified bootstrap), by
// a math/rand/v2 PCG seeded (Seed, 0x9e3779b97f4a7c15), in the order
// resample, task, run. It panics for runs < 1, tasks < 0 or a negative
// Resamples.
func (b Bootstrap) Indices(runs, tasks int) [][][]int {
	return b.draw(streamX, runs, tasks)
}

// checkScores is the error form of the point estimates' panics, for
// matrices that come from users.
func checkScores(name string, x [][]float64) error {
	if len(x) == 0 {
		return fmt.Errorf("aggregate: %s has no runs", name)
	}
	tasks := len(x[0])
	if tasks == 0 {
		return fmt.Errorf("aggregate: %s has no tasks", name)
	}
	for i, row := range x {
		if len(row) != tasks {
			return fmt.Errorf("aggregate: ragged score matrix %s: run %d has %d tasks, run 0 has %d", name, i, len(row), tasks)
		}
		for j, v := range row {
			// ±Inf is refused too: an interval bound interpolated
			// between Inf and a finite value is NaN.
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("aggregate: %s: score %v at run %d, task %d is not finite", name, v, i, j)
			}
		}
	}
	return nil
}

// matrix is a runs × tasks matrix on one allocation.
func matrix(runs, tasks int) [][]float64 {
	flat := make([]float64, runs*tasks)
	m := make([][]float64, runs)
	for i := range m {
		m[i] = flat[i*tasks : (i+1)*tasks : (i+1)*tasks]
	}
	return m
}

// resample writes into dst the resample of x that idx[task][i] describes.
// It panics on indices that do not fit x, naming resample r.
func resample(dst, x [][]float64, idx [][]int, r int) {
	runs, tasks := len(x), len(x[0])
	if len(idx) != tasks {
		panic(fmt.Sprintf("aggregate: resample %d has indices for %d tasks, scores have %d", r, len(idx), tasks))
	}
	for t, row := range idx {
		if len(row) != runs {
			panic(fmt.Sprintf("aggregate: resample %d, task %d has %d indices, scores have %d runs", r, t, len(row), runs))
		}
		for i, k := range row {
			if k < 0 || k >= runs {
				panic(fmt.Sprintf("aggregate: resample %d, task %d: run index %d outside [0, %d)", r, t, k, runs))
			}
			dst[i][t] = x[k][t]
		}
	}
}

// percentileCI is the percentile interval of the resampled statistics
// (sorted in place), NaN when any resample gave NaN, as numpy.percentile
// would.
func percentileCI(reps []float64, confidence float64) (lo, hi float64) {
	if slices.ContainsFunc(reps, math.IsNaN) {
		return math.NaN(), math.NaN()
	}
	slices.Sort(reps)
	return Percentile(reps, 100*(1-confidence)/2), Percentile(reps, 100*(1+confidence)/2)
}

// Aggregate gives stat(x) with a percentile CI over stratified resamples:
// the bounds are numpy.percentile (linear) of the resampled statistics at
// 100(1−c)/2 and 100(1+c)/2. It equals AggregateWith(x, stat,
// b.Indices(len(x), len(x[0])), b.Confidence) but draws one resample at a
// time. stat must not keep its argument: the resample buffer is reused.
// The error reports empty, ragged or non-finite x and bad settings.
func (b Bootstrap) Aggregate(x [][]float64, stat func([][]float64) float64) (Interval, error) {
	if err := b.check(); err != nil {
		return Interval{}, err
	}
	if err := checkScores("x", x); err != nil {
		return Interval{}, err
	}
	s := newSampler(b.Seed, streamX, len(x))
	idx := indexBlock(len(x[0]), len(x))
	return aggregate(x, stat, b.resamples(), confidenceOr(b.Confidence), func(int) [][]int {
		s.next(idx)
		return idx
	}), nil
}

// AggregateWith is Aggregate with given resample indices, for tests and
// for replaying a published analysis; confidence 0 means 0.95. It panics
// when an index does not fit x, when there are no resamples, on input
// that Aggregate rejects, or when confidence is outside (0, 1).
func AggregateWith(x [][]float64, stat func([][]float64) float64, idx [][][]int, confidence float64) Interval {
	c := mustConfidence(confidence)
	if err := checkScores("x", x); err != nil {
		panic(err.Error())
	}
	if len(idx) == 0 {
		panic("aggregate: AggregateWith without resamples")
	}
	return aggregate(x, stat, len(idx), c, func(r int) [][]int { return idx[r] })
}

func mustConfidence(c float64) float64 {
	c = confidenceOr(c)
	if !(c > 0 && c < 1) {
		panic(fmt.Sprintf("aggregate: confidence %v outside (0, 1)", c))
	}
	return c
}

func aggregate(x [][]float64, stat func([][]float64) float64, resamples int, confidence float64, next func(r int) [][]int) Interval {
	point := stat(x)
	buf := matrix(len(x), len(x[0]))
	reps := make([]float64, resamples)
	for r := range reps {
		resample(buf, x, next(r), r)
		reps[r] = stat(buf)
	}
	lo, hi := percentileCI(reps, confidence)
	return Interval{Point: point, Lo: lo, Hi: hi}
}

// ProbImprovementCI is ProbImprovement(x, y) with a percentile CI. x and y
// are resampled independently, each stratified by task, as rliable's
// StratifiedIndependentBootstrap does: x's indices are b.Indices(N, M);
// y's are drawn the same way from a second PCG stream, seeded
// (Seed, 0xbf58476d1ce4e5b9) instead of (Seed, 0x9e3779b97f4a7c15). The
// error reports empty, ragged or non-finite input, different task counts
// and bad settings.
func (b Bootstrap) ProbImprovementCI(x, y [][]float64) (Interval, error) {
	if err := b.check(); err != nil {
		return Interval{}, err
	}
	if err := checkPair(x, y); err != nil {
		return Interval{}, err
	}
	sx, sy := newSampler(b.Seed, streamX, len(x)), newSampler(b.Seed, streamY, len(y))
	ix, iy := indexBlock(len(x[0]), len(x)), indexBlock(len(y[0]), len(y))
	return probImprovement(x, y, b.resamples(), confidenceOr(b.Confidence), func(int) ([][]int, [][]int) {
		sx.next(ix)
		sy.next(iy)
		return ix, iy
	}), nil
}

func checkPair(x, y [][]float64) error {
	if err := checkScores("x", x); err != nil {
		return err
	}
	if err := checkScores("y", y); err != nil {
		return err
	}
	if len(x[0]) != len(y[0]) {
		return fmt.Errorf("aggregate: x has %d tasks, y has %d", len(x[0]), len(y[0]))
	}
	return nil
}

// ProbImprovementWith is ProbImprovementCI with given resample indices of
// x and y (one entry per resample in each); confidence 0 means 0.95. It
// panics on indices that do not fit, different resample counts, input
// that ProbImprovementCI rejects, or confidence outside (0, 1).
func ProbImprovementWith(x, y [][]float64, idxX, idxY [][][]int, confidence float64) Interval {
	c := mustConfidence(confidence)
	if err := checkPair(x, y); err != nil {
		panic(err.Error())
	}
	if len(idxX) != len(idxY) {
		panic(fmt.Sprintf("aggregate: %d resamples of x, %d of y", len(idxX), len(idxY)))
	}
	if len(idxX) == 0 {
		panic("aggregate: ProbImprovementWith without resamples")
	}
	return probImprovement(x, y, len(idxX), c, func(r int) ([][]int, [][]int) { return idxX[r], idxY[r] })
}

func probImprovement(x, y [][]float64, resamples int, confidence float64, next func(r int) ([][]int, [][]int)) Interval {
	point := ProbImprovement(x, y)
	bx, by := matrix(len(x), len(x[0])), matrix(len(y), len(y[0]))
	reps := make([]float64, resamples)
	for r := range reps {
		ix, iy := next(r)
		resample(bx, x, ix, r)
		resample(by, y, iy, r)
		reps[r] = ProbImprovement(bx, by)
	}
	lo, hi := percentileCI(reps, confidence)
	return Interval{Point: point, Lo: lo, Hi: hi}
}
