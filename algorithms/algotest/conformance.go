package algotest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/grao-lab/grao/core"
)

// Options tunes the conformance suite; the zero value is the default.
type Options struct {
	// Prompts is the number of groups per batch (default 4).
	Prompts int
	// Seed seeds the random batches (default 1).
	Seed uint64
	// Continuous draws rewards uniform in [−1, 1] instead of from
	// {−1, 0, +1} (the judges' values).
	Continuous bool
	// Step is the central finite-difference step (default 1e-6); Abs and
	// Rel bound |analytic − numeric| ≤ Abs + Rel·|numeric| (defaults 1e-6
	// and 1e-4).
	Step, Abs, Rel float64
}

func (o Options) withDefaults() Options {
	if o.Prompts == 0 {
		o.Prompts = 4
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Step == 0 {
		o.Step = 1e-6
	}
	if o.Abs == 0 {
		o.Abs = 1e-6
	}
	if o.Rel == 0 {
		o.Rel = 1e-4
	}
	return o
}

// Run runs the conformance suite on alg and reports every failure through
// t. Any implementation of core.Algorithm — built in, out of tree or a
// plugin seen through its host — is expected to pass it:
//
//	func TestConformance(t *testing.T) {
//		alg, err := algorithms.New("rloo", nil)
//		if err != nil {
//			t.Fatal(err)
//		}
//		algotest.Run(t, alg, algotest.Options{})
//	}
func Run(t testing.TB, alg core.Algorithm, o Options) {
	t.Helper()
	for _, f := range Conformance(alg, o) {
		t.Errorf("%s: %s", alg.Name(), f)
	}
}

// Failure is one broken promise of the core.Algorithm contract.
type Failure struct {
	// Check names it: "needs", "loss", "finite", "shape", "mutation",
	// "determinism", "gradient" or "edge:<case>".
	Check string
	Msg   string
}

func (f Failure) String() string { return f.Check + ": " + f.Msg }

// Conformance checks alg against the contract of core.Algorithm on random
// batches shaped by its Needs, and returns what failed (nil: all passed):
//
//   - Loss succeeds on a regular batch and returns a finite loss and
//     finite components;
//   - it writes its gradient into grad without reshaping it, and does not
//     modify the batch;
//   - the same batch gives bit-identical results twice;
//   - a group filter (Needs.Keep) comes with MaxRounds ≥ 1 and leaves the
//     group it sees unchanged;
//   - dLoss/dLogP (and dLoss/dValues) agree with central finite
//     differences of the returned loss, for every token;
//   - edge cases (groups whose rewards are all equal, one-token
//     completions, an empty completion, extreme log-probs) either fail
//     with an error or give finite values — never a panic or a NaN.
func Conformance(alg core.Algorithm, o Options) []Failure {
	o = o.withDefaults()
	var fails []Failure
	fail := func(check, format string, args ...any) {
		fails = append(fails, Failure{check, fmt.Sprintf(format, args...)})
	}
	if l, ok := alg.(core.LengthLimited); ok {
		// what the trainer does before the first step; random batches
		// have at most MaxTokens tokens per completion
		if err := l.SetMaxNewTokens(MaxTokens); err != nil {
			fail("needs", "SetMaxNewTokens(%d): %v", MaxTokens, err)
			return fails
		}
	}
	n := alg.Needs()
	if n.Epochs < 1 {
		fail("needs", "Epochs = %d, want ≥ 1", n.Epochs)
	}
	if n.Samples < 0 {
		fail("needs", "Samples = %d, want ≥ 0", n.Samples)
	}
	if n.Samples == 0 && !n.Reference && !n.Pairs {
		fail("needs", "the algorithm asks for no sequence at all (no Samples, Reference or Pairs)")
	}
	if n.Keep != nil && (n.MaxRounds < 1 || n.Samples == 0) {
		fail("needs", "Keep is set with MaxRounds = %d and Samples = %d, want both ≥ 1", n.MaxRounds, n.Samples)
	}
	if len(fails) > 0 {
		return fails
	}
	r := NewRand(o.Seed)
	b := RandomBatch(r, n, o.Prompts, o.Continuous)

	before := CloneBatch(b)
	if n.Keep != nil {
		for gi := range b.Groups {
			n.Keep(&b.Groups[gi])
		}
		if !batchEqual(b, before) {
			fail("mutation", "Needs.Keep modified the group it was given")
			b = CloneBatch(before)
		}
	}
	lv, grad, err := call(alg, b)
	if err != nil {
		fail("loss", "%v", err)
		return fails
	}
	if !batchEqual(b, before) {
		fail("mutation", "Loss modified its input batch")
		b = before
	}
	if !finiteLoss(lv) {
		fail("finite", "loss %v, components %v", lv.Loss, lv.Components)
	}
	if msg := sameShape(b, grad); msg != "" {
		fail("shape", "%s", msg)
	}
	lv2, grad2, err := call(alg, b)
	switch {
	case err != nil:
		fail("determinism", "second call failed: %v", err)
	case math.Float64bits(lv.Loss) != math.Float64bits(lv2.Loss):
		fail("determinism", "loss %v then %v on the same batch", lv.Loss, lv2.Loss)
	case !batchEqual(grad, grad2):
		fail("determinism", "the gradient differs between two calls on the same batch")
	}
	fails = append(fails, checkGradient(alg, b, grad, o)...)
	fails = append(fails, edgeCases(alg, n, o)...)
	return fails
}

// call runs Loss on a fresh gradient batch, turning a panic into an error.
func call(alg core.Algorithm, b *core.Batch) (lv core.LossValue, grad *core.Batch, err error) {
	grad = GradBatch(b)
	defer func() {
		if p := recover(); p != nil {
			err = panicError{p}
		}
	}()
	lv, err = alg.Loss(b, grad)
	return lv, grad, err
}

// panicError is a panic in Loss, turned into an error by call.
type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprintf("panic: %v", p.v) }

func finiteLoss(lv core.LossValue) bool {
	if math.IsNaN(lv.Loss) || math.IsInf(lv.Loss, 0) {
		return false
	}
	for _, v := range lv.Components {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// checkGradient compares every written derivative with central finite
// differences of the loss.
func checkGradient(alg core.Algorithm, b, grad *core.Batch, o Options) []Failure {
	var fails []Failure
	work := CloneBatch(b)
	gws, gs := seqPairs(work), seqPairs(grad)
	for k := range gws {
		for _, f := range []struct {
			name     string
			x, g     []float64
			optional bool
		}{{"LogP", gws[k].seq.LogP, gs[k].seq.LogP, false}, {"Values", gws[k].seq.Values, gs[k].seq.Values, true}} {
			if f.x == nil || f.g == nil {
				continue
			}
			for t := range f.x {
				x := f.x[t]
				f.x[t] = x + o.Step
				up, _, err1 := call(alg, work)
				f.x[t] = x - o.Step
				down, _, err2 := call(alg, work)
				f.x[t] = x
				if err1 != nil || err2 != nil {
					return append(fails, Failure{"gradient", fmt.Sprintf("%s.%s[%d] ± %g: %v %v", gws[k].where, f.name, t, o.Step, err1, err2)})
				}
				num := (up.Loss - down.Loss) / (2 * o.Step)
				if d := math.Abs(f.g[t] - num); !(d <= o.Abs+o.Rel*math.Abs(num)) {
					fails = append(fails, Failure{"gradient", fmt.Sprintf("d loss/d %s.%s[%d] = %.10g, finite differences give %.10g", gws[k].where, f.name, t, f.g[t], num)})
					if len(fails) >= 5 {
						return fails
					}
				}
			}
		}
	}
	return fails
}

// edgeCases runs batches an algorithm meets in training; each must give an
// error or finite values.
func edgeCases(alg core.Algorithm, n core.Needs, o Options) []Failure {
	var fails []Failure
	cases := []struct {
		name  string
		build func(r *rand.Rand) *core.Batch
	}{
		{"all-equal rewards", func(r *rand.Rand) *core.Batch {
			b := RandomBatch(r, n, o.Prompts, o.Continuous)
			for gi := range b.Groups {
				for i := range b.Groups[gi].Rewards {
					b.Groups[gi].Rewards[i] = 1
				}
			}
			return b
		}},
		{"one-token sequences", func(r *rand.Rand) *core.Batch {
			b := RandomBatch(r, n, o.Prompts, o.Continuous)
			for _, p := range seqPairs(b) {
				truncate(p.seq, 1)
			}
			return b
		}},
		{"empty completion", func(r *rand.Rand) *core.Batch {
			b := RandomBatch(r, n, o.Prompts, o.Continuous)
			truncate(seqPairs(b)[0].seq, 0)
			return b
		}},
		{"extreme log-probs", func(r *rand.Rand) *core.Batch {
			b := RandomBatch(r, n, o.Prompts, o.Continuous)
			for _, p := range seqPairs(b) {
				for t := range p.seq.LogP {
					p.seq.LogP[t] = -30 + 29.99*r.Float64()
				}
			}
			return b
		}},
	}
	r := NewRand(o.Seed + 1)
	for _, c := range cases {
		b := c.build(r)
		lv, grad, err := call(alg, b)
		if err != nil {
			if errors.As(err, new(panicError)) {
				fails = append(fails, Failure{"edge:" + c.name, err.Error()})
			}
			continue
		}
		if !finiteLoss(lv) {
			fails = append(fails, Failure{"edge:" + c.name, fmt.Sprintf("loss %v, components %v", lv.Loss, lv.Components)})
			continue
		}
		for _, p := range seqPairs(grad) {
			if slices.ContainsFunc(p.seq.LogP, notFinite) || slices.ContainsFunc(p.seq.Values, notFinite) {
				fails = append(fails, Failure{"edge:" + c.name, fmt.Sprintf("non-finite gradient at %s", p.where)})
				break
			}
		}
	}
	return fails
}

func notFinite(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }

func truncate(s *core.Seq, n int) {
	cut := func(x []float64) []float64 {
		if x == nil {
			return nil
		}
		return x[:min(n, len(x))]
	}
	s.Tokens = s.Tokens[:min(n, len(s.Tokens))]
	s.LogP, s.OldLogP, s.RefLogP = cut(s.LogP), cut(s.OldLogP), cut(s.RefLogP)
	s.Values, s.OldValues = cut(s.Values), cut(s.OldValues)
}
