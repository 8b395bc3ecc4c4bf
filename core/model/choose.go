package model

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Chooser is the sampling rule every engine applies to a row of logits, so
// that given the same logits a row draws the same token from the same
// stream whichever engine computed them: greedy at temperature 0, else a
// draw from softmax(logits/T) restricted to the top-k tokens and the
// top-p nucleus (a stable sort, ties by id), with one rng.Float64 per
// draw. Its buffers are reused across calls; not safe for concurrent use.
type Chooser struct {
	prob  []float64
	order []int
}

// Choose draws a token from logits under cfg and returns it with its
// log-probability under the untruncated softmax: plain (T=1), or at
// cfg.Temperature with cfg.TemperedLogProbs.
func (s *Chooser) Choose(logits []float32, cfg SampleConfig, rng *rand.Rand) (int, float32) {
	V := len(logits)
	maxv := math.Inf(-1)
	arg := 0
	for i, z := range logits {
		if float64(z) > maxv {
			maxv, arg = float64(z), i
		}
	}
	var sum float64
	for _, z := range logits {
		sum += math.Exp(float64(z) - maxv)
	}
	lse := maxv + math.Log(sum)
	if cfg.Temperature == 0 {
		return arg, float32(float64(logits[arg]) - lse)
	}
	s.prob = growF64(s.prob, V)
	s.order = s.order[:0]
	for i := 0; i < V; i++ {
		s.order = append(s.order, i)
	}
	inv := 1 / cfg.Temperature
	var z float64
	for i, l := range logits {
		s.prob[i] = math.Exp((float64(l) - maxv) * inv)
		z += s.prob[i]
	}
	for i := range s.prob {
		s.prob[i] /= z
	}
	keep := s.order
	if (cfg.TopK > 0 && cfg.TopK < V) || (cfg.TopP > 0 && cfg.TopP < 1) {
		// Stable sort by probability, ties by id, for determinism.
		sort.SliceStable(keep, func(a, b int) bool { return s.prob[keep[a]] > s.prob[keep[b]] })
		if cfg.TopK > 0 && cfg.TopK < len(keep) {
			keep = keep[:cfg.TopK]
		}
		if cfg.TopP > 0 && cfg.TopP < 1 {
			var cum float64
			for i, id := range keep {
				cum += s.prob[id]
				if cum >= cfg.TopP {
					keep = keep[:i+1]
					break
				}
			}
		}
	}
	var mass float64
	for _, id := range keep {
		mass += s.prob[id]
	}
	u := rng.Float64() * mass
	tok := keep[len(keep)-1]
	for _, id := range keep {
		u -= s.prob[id]
		if u < 0 {
			tok = id
			break
		}
	}
	if cfg.TemperedLogProbs && cfg.Temperature != 1 {
		// z is the tempered partition function relative to maxv, so the
		// tempered log-prob costs no second pass over the vocabulary. At
		// T = 1 the plain formula below is the same quantity, and keeps
		// its bits.
		return tok, float32((float64(logits[tok])-maxv)*inv - math.Log(z))
	}
	return tok, float32(float64(logits[tok]) - lse)
}

// Row is one row of a generation in progress, extended and stopped by the
// rules every engine's sampler follows.
type Row struct {
	Pos  int // next position to write
	Last int // last token fed
	Done bool
	Out  Completion
	rng  *rand.Rand
}

// NewRow starts row r of a call after a prompt of promptLen tokens: it
// draws from its own stream (seed, r), so its tokens do not depend on the
// other rows.
func NewRow(promptLen int, seed uint64, r int) *Row {
	return &Row{Pos: promptLen, rng: rand.New(rand.NewPCG(seed, uint64(r)))}
}

// Pick draws the row's next token from logits with ch and records it; it
// marks the row done at eos, at cfg.MaxNew, or when the context is full.
func (rs *Row) Pick(ch *Chooser, logits []float32, cfg SampleConfig, eos, context int) {
	tok, lp := ch.Choose(logits, cfg, rs.rng)
	rs.Out.Tokens = append(rs.Out.Tokens, tok)
	rs.Out.LogProbs = append(rs.Out.LogProbs, lp)
	rs.Last = tok
	switch {
	case tok == eos:
		rs.Done, rs.Out.Stopped = true, true
	case len(rs.Out.Tokens) >= cfg.MaxNew || rs.Pos+1 >= context:
		// Pos+1 tokens (prompt and completion) fill the context: the whole
		// sequence must still fit a graph row for training and scoring.
		rs.Done = true
	}
}
