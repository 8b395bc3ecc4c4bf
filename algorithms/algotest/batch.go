package algotest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/grao-lab/grao/core"
)

// MaxTokens is the longest completion RandomBatch draws.
const MaxTokens = 6

// RandomBatch returns a batch of the given number of groups holding what
// the trainer would give an algorithm with these needs: G samples per
// prompt with behaviour log-probs (and rewards, and R(y, y) when the
// reference is needed too), the reference answer, the preference pair,
// reference-model log-probs and values as asked. Completions have 1 to
// MaxTokens tokens; log-probs lie in [−3, −0.05], behaviour and reference ones
// within ±0.1 of them.
func RandomBatch(r *rand.Rand, n core.Needs, prompts int, continuous bool) *core.Batch {
	seq := func(sample bool) core.Seq {
		lp := RandSeqs(r, 1, 1, MaxTokens, -3, -0.05)[0]
		s := core.Seq{LogP: lp, Tokens: make([]int, len(lp))}
		for t := range s.Tokens {
			s.Tokens[t] = 3 + r.IntN(250)
		}
		if sample {
			s.OldLogP = Jitter(r, [][]float64{lp}, 0.1)[0]
		}
		if n.RefModel {
			s.RefLogP = Jitter(r, [][]float64{lp}, 0.1)[0]
		}
		if n.Value {
			s.Values = RandSeqs(r, 1, len(lp), len(lp), -1, 1)[0]
			s.OldValues = Jitter(r, [][]float64{s.Values}, 0.1)[0]
		}
		return s
	}
	reward := func() float64 {
		if continuous {
			return 2*r.Float64() - 1
		}
		return float64(r.IntN(3) - 1)
	}
	b := &core.Batch{Groups: make([]core.Group, prompts)}
	for gi := range b.Groups {
		g := &b.Groups[gi]
		for range n.Samples {
			g.Samples = append(g.Samples, seq(true))
			g.Rewards = append(g.Rewards, reward())
		}
		if n.Reference {
			y := seq(false)
			g.Reference = &y
			if n.Samples > 0 {
				rr := 0.0 // a judge's R(y, y)
				if continuous {
					rr = reward()
				}
				g.RefReward = &rr
			}
		}
		if n.Pairs {
			c, rj := seq(false), seq(false)
			g.Chosen, g.Rejected = &c, &rj
		}
	}
	return b
}

// GradBatch returns the gradient twin of b that the trainer passes to
// Loss (core.NewGrad).
func GradBatch(b *core.Batch) *core.Batch { return core.NewGrad(b) }

// CloneBatch returns a deep copy of b.
func CloneBatch(b *core.Batch) *core.Batch {
	c := &core.Batch{Groups: make([]core.Group, len(b.Groups))}
	cp := func(s *core.Seq) *core.Seq {
		if s == nil {
			return nil
		}
		return &core.Seq{Tokens: slices.Clone(s.Tokens), LogP: slices.Clone(s.LogP), OldLogP: slices.Clone(s.OldLogP),
			RefLogP: slices.Clone(s.RefLogP), Values: slices.Clone(s.Values), OldValues: slices.Clone(s.OldValues)}
	}
	for gi, src := range b.Groups {
		dst := &c.Groups[gi]
		for i := range src.Samples {
			dst.Samples = append(dst.Samples, *cp(&src.Samples[i]))
		}
		dst.Rewards = slices.Clone(src.Rewards)
		if src.RefReward != nil {
			v := *src.RefReward
			dst.RefReward = &v
		}
		dst.Reference, dst.Chosen, dst.Rejected = cp(src.Reference), cp(src.Chosen), cp(src.Rejected)
	}
	return c
}

// seqRef is one sequence of a batch with where it sits, for messages.
type seqRef struct {
	where string
	seq   *core.Seq
}

// seqPairs lists a batch's sequences in a fixed order.
func seqPairs(b *core.Batch) []seqRef {
	var out []seqRef
	for gi := range b.Groups {
		g := &b.Groups[gi]
		for i := range g.Samples {
			out = append(out, seqRef{fmt.Sprintf("groups[%d].samples[%d]", gi, i), &g.Samples[i]})
		}
		for _, s := range []struct {
			name string
			seq  *core.Seq
		}{{"reference", g.Reference}, {"chosen", g.Chosen}, {"rejected", g.Rejected}} {
			if s.seq != nil {
				out = append(out, seqRef{fmt.Sprintf("groups[%d].%s", gi, s.name), s.seq})
			}
		}
	}
	return out
}

// batchEqual compares two batches bit for bit.
func batchEqual(a, b *core.Batch) bool {
	pa, pb := seqPairs(a), seqPairs(b)
	if len(pa) != len(pb) || len(a.Groups) != len(b.Groups) {
		return false
	}
	for gi := range a.Groups {
		if !bitsEqual(a.Groups[gi].Rewards, b.Groups[gi].Rewards) {
			return false
		}
		ra, rb := a.Groups[gi].RefReward, b.Groups[gi].RefReward
		if (ra == nil) != (rb == nil) || (ra != nil && math.Float64bits(*ra) != math.Float64bits(*rb)) {
			return false
		}
	}
	for k := range pa {
		x, y := pa[k].seq, pb[k].seq
		if pa[k].where != pb[k].where || !slices.Equal(x.Tokens, y.Tokens) ||
			!bitsEqual(x.LogP, y.LogP) || !bitsEqual(x.OldLogP, y.OldLogP) || !bitsEqual(x.RefLogP, y.RefLogP) ||
			!bitsEqual(x.Values, y.Values) || !bitsEqual(x.OldValues, y.OldValues) {
			return false
		}
	}
	return true
}

func bitsEqual(a, b []float64) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// sameShape reports how grad no longer mirrors b ("" when it does).
func sameShape(b, grad *core.Batch) string {
	pb, pg := seqPairs(b), seqPairs(grad)
	if len(pb) != len(pg) {
		return fmt.Sprintf("the gradient batch has %d sequences, the batch %d", len(pg), len(pb))
	}
	for k := range pb {
		if len(pg[k].seq.LogP) != len(pb[k].seq.LogP) || len(pg[k].seq.Values) != len(pb[k].seq.Values) {
			return fmt.Sprintf("%s: gradient has %d log-probs and %d values, the sequence %d and %d",
				pb[k].where, len(pg[k].seq.LogP), len(pg[k].seq.Values), len(pb[k].seq.LogP), len(pb[k].seq.Values))
		}
	}
	return ""
}
