package model

import (
	"fmt"
	"math"

	"github.com/grao-lab/grao/kernels"
)

// state is the hand-written inference path over Params (float32): the
// KV-cache sampler and Logits share it. It is not safe for concurrent use;
// make one per goroutine.
type state struct {
	p *Params
	// KV cache: per layer, per row, [Context, d] keys and values.
	k, v [][][]float32
	// prefill activations, and the logits and attention-score scratch
	act            acts
	logits, scores []float32
}

// acts are the activations of n positions in flight through the blocks.
type acts struct {
	x, h, qkv, att, mlp, mlp2 []float32
	moe                       *moeActs // mixture-of-experts blocks only
	// serial keeps matrix products on the calling goroutine: set for a
	// decoding lane, one of several that already occupy the cores.
	serial bool
}

// gemm is C = A·op(B) + beta·C for these activations (kernels.Gemm, or
// kernels.GemmSerial in a lane).
func (a *acts) gemm(transB bool, m, n, k int, x []float32, lda int, w []float32, ldb int, beta float32, y []float32, ldc int) {
	if a.serial {
		kernels.GemmSerial(false, transB, m, n, k, 1, x, lda, w, ldb, beta, y, ldc)
		return
	}
	kernels.Gemm(false, transB, m, n, k, 1, x, lda, w, ldb, beta, y, ldc)
}

// size makes room for n positions of width d.
func (a *acts) size(n, d int) {
	a.x = grow(a.x, n*d)
	a.h = grow(a.h, n*d)
	a.qkv = grow(a.qkv, n*3*d)
	a.att = grow(a.att, n*d)
	a.mlp = grow(a.mlp, n*4*d)
	a.mlp2 = grow(a.mlp2, n*4*d)
}

func newState(p *Params, rows int) *state {
	c := p.Config
	s := &state{p: p}
	s.k = make([][][]float32, c.NLayer)
	s.v = make([][][]float32, c.NLayer)
	for l := range s.k {
		s.k[l] = make([][]float32, rows)
		s.v[l] = make([][]float32, rows)
		for r := 0; r < rows; r++ {
			s.k[l][r] = make([]float32, c.Context*c.DModel)
			s.v[l][r] = make([]float32, c.Context*c.DModel)
		}
	}
	s.scores = make([]float32, c.Context)
	return s
}

func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// prefill runs n positions of one row (ids at positions pos..pos+n-1),
// filling that row's KV cache, and leaves the final hidden states
// (after ln_f) of all n positions in s.act.x[:n*d].
func (s *state) prefill(row int, ids []int, pos int) error {
	c := s.p.Config
	n, d := len(ids), c.DModel
	if pos+n > c.Context {
		return fmt.Errorf("model: sequence of %d tokens exceeds the context of %d", pos+n, c.Context)
	}
	for _, id := range ids {
		if id < 0 || id >= c.VocabSize {
			return fmt.Errorf("model: token id %d outside the vocabulary [0,%d)", id, c.VocabSize)
		}
	}
	a := &s.act
	a.size(n, d)
	for i, id := range ids {
		s.p.embed(a.x[i*d:(i+1)*d], id, pos+i)
	}
	for l, b := range s.p.Blocks {
		s.p.attnIn(a, b, n)
		kc, vc := s.k[l][row], s.v[l][row]
		for i := 0; i < n; i++ {
			copy(kc[(pos+i)*d:(pos+i+1)*d], a.qkv[i*3*d+d:i*3*d+2*d])
			copy(vc[(pos+i)*d:(pos+i+1)*d], a.qkv[i*3*d+2*d:i*3*d+3*d])
		}
		for i := 0; i < n; i++ {
			kernels.AttendOne(a.att[i*d:(i+1)*d], a.qkv[i*3*d:i*3*d+d], kc, vc, s.scores, pos+i+1, c.NHead, c.HeadDim())
		}
		s.p.blockOut(a, b, n)
	}
	kernels.LayerNorm(a.x, a.x, s.p.LNFG.Data, s.p.LNFB.Data, n, d, c.LNEps, nil, nil)
	return nil
}

// copyCache copies the first n positions of row from's KV cache, in every
// layer, to row to.
func (s *state) copyCache(from, to, n int) {
	m := n * s.p.Config.DModel
	for l := range s.k {
		copy(s.k[l][to][:m], s.k[l][from][:m])
		copy(s.v[l][to][:m], s.v[l][from][:m])
	}
}

// embed writes wte[id] + wpe[pos] into x.
func (p *Params) embed(x []float32, id, pos int) {
	d := p.Config.DModel
	copy(x, p.WTE.Data[id*d:(id+1)*d])
	wpe := p.WPE.Data[pos*d : (pos+1)*d]
	for j := range x {
		x[j] += wpe[j]
	}
}

// attnIn computes qkv = c_attn(ln_1(x)) for n positions.
func (p *Params) attnIn(a *acts, b Block, n int) {
	d := p.Config.DModel
	kernels.LayerNorm(a.h, a.x, b.LN1G.Data, b.LN1B.Data, n, d, p.Config.LNEps, nil, nil)
	a.linear(a.qkv, a.h, b.AttnW.Data, b.AttnB.Data, n, d, 3*d)
}

// blockOut finishes a block for n positions of a.att (attention output
// before c_proj): x += c_proj(att); x += mlp(ln_2(x)).
func (p *Params) blockOut(a *acts, b Block, n int) {
	d := p.Config.DModel
	a.linearAcc(a.x, a.att, b.ProjW.Data, b.ProjB.Data, n, d, d)
	kernels.LayerNorm(a.h, a.x, b.LN2G.Data, b.LN2B.Data, n, d, p.Config.LNEps, nil, nil)
	if b.Gate != nil {
		p.moeOut(a, b, n)
		return
	}
	a.linear(a.mlp, a.h, b.FCW.Data, b.FCB.Data, n, d, 4*d)
	if a.serial {
		// Rows at a time: each call stays below GELU's fan-out size.
		for i := 0; i < n; i++ {
			kernels.GELU(a.mlp2[i*4*d:(i+1)*4*d], a.mlp[i*4*d:(i+1)*4*d])
		}
	} else {
		kernels.GELU(a.mlp2[:n*4*d], a.mlp[:n*4*d])
	}
	a.linearAcc(a.x, a.mlp2, b.FC2W.Data, b.FC2B.Data, n, 4*d, d)
}

// logitsOf writes x[:n]·wteᵀ into s.logits[:n*V].
func (s *state) logitsOf(x []float32, n int) []float32 {
	s.logits = logitsInto(&s.act, s.p, s.logits, x, n)
	return s.logits
}

// logitsInto writes x[:n]·wteᵀ into buf (grown to n*V) and returns it.
func logitsInto(a *acts, p *Params, buf, x []float32, n int) []float32 {
	c := p.Config
	buf = grow(buf, n*c.VocabSize)
	a.gemm(true, n, c.VocabSize, c.DModel, x, c.DModel, p.WTE.Data, c.DModel, 0, buf, c.VocabSize)
	return buf
}

// linear: y[n,out] = x[n,in]·w[in,out] + b.
func (a *acts) linear(y, x, w, b []float32, n, in, out int) {
	for i := 0; i < n; i++ {
		copy(y[i*out:(i+1)*out], b)
	}
	a.gemm(false, n, out, in, x, in, w, out, 1, y, out)
}

// linearAcc: y[n,out] += x[n,in]·w[in,out] + b.
func (a *acts) linearAcc(y, x, w, b []float32, n, in, out int) {
	for i := 0; i < n; i++ {
		yi := y[i*out : (i+1)*out]
		for j := range yi {
			yi[j] += b[j]
		}
	}
	a.gemm(false, n, out, in, x, in, w, out, 1, y, out)
}

// Logits runs one sequence (starting at position 0) and returns its
// logits, len(ids)×VocabSize, row-major. It is the reference inference
// path for checkpoint parity and `bench score`.
func (p *Params) Logits(ids []int) ([]float32, error) {
	s := newState(p, 1)
	if err := s.prefill(0, ids, 0); err != nil {
		return nil, err
	}
	out := s.logitsOf(s.act.x, len(ids))
	return append([]float32(nil), out...), nil
}

// TokenLogProbs returns log π(ids[i+1] | ids[:i+1]) for i < len(ids)-1 from
// logits of the sequence ids (len(ids)×V), computed in float64.
func TokenLogProbs(logits []float32, ids []int, V int) []float64 {
	out := make([]float64, 0, max(len(ids)-1, 0))
	for i := 0; i+1 < len(ids); i++ {
		row := logits[i*V : (i+1)*V]
		m := math.Inf(-1)
		for _, z := range row {
			m = math.Max(m, float64(z))
		}
		var s float64
		for _, z := range row {
			s += math.Exp(float64(z) - m)
		}
		out = append(out, float64(row[ids[i+1]])-m-math.Log(s))
	}
	return out
}

// tokenLogProbsAt is TokenLogProbs with the logits divided by temp, the
// division done in float64 as in the definition; temp == 1 is
// TokenLogProbs itself, so untempered scores keep their bits.
func tokenLogProbsAt(logits []float32, ids []int, V int, temp float64) []float64 {
	if temp == 1 {
		return TokenLogProbs(logits, ids, V)
	}
	out := make([]float64, 0, max(len(ids)-1, 0))
	for i := 0; i+1 < len(ids); i++ {
		row := logits[i*V : (i+1)*V]
		m := math.Inf(-1)
		for _, z := range row {
			m = math.Max(m, float64(z)/temp)
		}
		var s float64
		for _, z := range row {
			s += math.Exp(float64(z)/temp - m)
		}
		out = append(out, float64(row[ids[i+1]])/temp-m-math.Log(s))
	}
	return out
}

// Scorer computes per-token log-probs of sequences with the inference path
// (no graph, no gradients), reusing its buffers across calls; for frozen
// reference policies and evaluation. Not safe for concurrent use.
type Scorer struct{ st *state }

// NewScorer prepares a scorer for p.
func NewScorer(p *Params) *Scorer { return &Scorer{st: newState(p, 1)} }

// LogProbs returns log π(Tokens[i] | Tokens[:i]) for i ≥ s.Start.
func (sc *Scorer) LogProbs(s Sequence) ([]float64, error) { return sc.logProbs(s, 1) }

// LogProbsAt is LogProbs under the distribution a sampler at the given
// temperature draws from: log softmax(logits/temperature)[Tokens[i]] for
// i ≥ s.Start, over the whole vocabulary (no top-k/top-p renormalisation),
// as Graph.LogP of NewGraphAt computes it. temperature must be positive and
// finite; at 1 the result is LogProbs's, bit for bit.
func (sc *Scorer) LogProbsAt(s Sequence, temperature float64) ([]float64, error) {
	if err := checkTemperature(temperature); err != nil {
		return nil, err
	}
	return sc.logProbs(s, temperature)
}

func (sc *Scorer) logProbs(s Sequence, temp float64) ([]float64, error) {
	lp, _, err := sc.score(s, temp, nil, false)
	return lp, err
}

// score is logProbs that also writes the per-token entropies into *ent
// when ent is not nil and, with values, returns the value head at the
// positions that predict the scored tokens (Start−1 … len−2, as the
// training graph's Value), all from one forward pass.
func (sc *Scorer) score(s Sequence, temp float64, ent *[]float64, values bool) (lp, vals []float64, err error) {
	if s.Start < 1 || s.Start > len(s.Tokens) {
		return nil, nil, fmt.Errorf("model: start %d outside [1,%d]", s.Start, len(s.Tokens))
	}
	if err := sc.st.prefill(0, s.Tokens, 0); err != nil {
		return nil, nil, err
	}
	p := sc.st.p
	n := len(s.Tokens)
	V, d := p.Config.VocabSize, p.Config.DModel
	// Only rows Start-1..n-2 predict scored tokens.
	rows := n - s.Start
	if values {
		vals = make([]float64, rows)
		for j := range vals {
			h := sc.st.act.x[(s.Start-1+j)*d : (s.Start+j)*d] // after ln_f
			v := float64(p.VB.Data[0])
			for k, w := range p.VW.Data {
				v += float64(h[k]) * float64(w)
			}
			vals[j] = v
		}
	}
	if rows == 0 {
		if ent != nil {
			*ent = []float64{}
		}
		return []float64{}, vals, nil
	}
	lg := sc.st.logitsOf(sc.st.act.x[(s.Start-1)*d:(n-1)*d], rows)
	if ent != nil {
		*ent = make([]float64, rows)
		targets := s.Tokens[s.Start:]
		kernels.EntropyAt(*ent, lg[:rows*V], targets, rows, V, temp)
	}
	return tokenLogProbsAt(lg[:rows*V], s.Tokens[s.Start-1:], V, temp), vals, nil
}

// Value returns the value head at the last position of ids (a sequence
// starting at position 0), in float64: a reward model's score.
func (sc *Scorer) Value(ids []int) (float64, error) {
	p := sc.st.p
	if p.VW == nil {
		return 0, fmt.Errorf("model: no value head")
	}
	if len(ids) == 0 {
		return 0, fmt.Errorf("model: empty sequence")
	}
	if err := sc.st.prefill(0, ids, 0); err != nil {
		return 0, err
	}
	d := p.Config.DModel
	last := sc.st.act.x[(len(ids)-1)*d : len(ids)*d] // after ln_f
	v := float64(p.VB.Data[0])
	for j, w := range p.VW.Data {
		v += float64(last[j]) * float64(w)
	}
	return v, nil
}
