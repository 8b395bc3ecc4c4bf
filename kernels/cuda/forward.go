//go:build grao_cuda

package cuda

import (
	"fmt"
	"math"

	"github.com/grao-lab/grao/core"
)

// mode selects what a forward pass does around attention.
type mode int

const (
	// modeFull scores whole sequences: attention over each row's own
	// positions, logits at every position.
	modeFull mode = iota
	// modePrefill is modeFull that also writes every position's q/k/v
	// into the KV cache and takes logits only at a.gather.
	modePrefill
	// modeDecode runs one new position per row (T = 1) against the cache.
	modeDecode
)

// forward runs the model over a's loaded ids and positions, leaving the
// final hidden states in a.hf, the logits in a.logits and (modeFull with a
// value head) the values in a.val.
func (e *Engine) forward(q *queue, a *acts, md mode) {
	c := e.cfg
	d, H, hd, N, T, B, V := c.DModel, c.NHead, c.HeadDim(), a.N, a.T, a.B, c.VocabSize
	eps := c.LNEps
	q.rows(kEmbedFwd, N, a.xs[0], e.weight(iWTE), e.weight(iWPE), a.ids, a.pos, N, d)
	for l := 0; l < c.NLayer; l++ {
		w := func(which int) ptr { return e.weight(blockTensor(l, which)) }
		q.rows(kLayerNormFwd, N, a.h1[l], a.xs[l], w(bLN1G), w(bLN1B), N, d, eps)
		e.linear(q, a.qkv, a.h1[l], w(bAttnW), w(bAttnB), N, d, 3*d)
		switch md {
		case modeDecode:
			q.rows(kKVAppend, N, e.cache[l], a.qkv, a.rows, a.pos, N, c.Context, 3*d)
			q.launch(kAttnDecode, N, H, 4*c.Context, a.att[l], a.qkv, e.cache[l], a.rows, a.pos, c.Context, H, hd, 1/math.Sqrt(float64(hd)))
		default:
			e.attention(q, a, l, B, T)
			if md == modePrefill {
				q.rows(kKVAppend, N, e.cache[l], a.qkv, a.rows, a.pos, N, c.Context, 3*d)
			}
		}
		e.residual(q, a.xmid[l], a.xs[l], a.att[l], w(bProjW), w(bProjB), N, d, d)
		q.rows(kLayerNormFwd, N, a.h2[l], a.xmid[l], w(bLN2G), w(bLN2B), N, d, eps)
		e.linear(q, a.fc[l], a.h2[l], w(bFCW), w(bFCB), N, d, 4*d)
		q.elems(kGELUFwd, 4*N*d, a.gl[l], a.fc[l], 4*N*d)
		e.residual(q, a.xs[l+1], a.xmid[l], a.gl[l], w(bFC2W), w(bFC2B), N, 4*d, d)
	}
	lnf := e.iLNF()
	q.rows(kLayerNormFwd, N, a.hf, a.xs[c.NLayer], e.weight(lnf), e.weight(lnf+1), N, d, eps)
	h, rows := a.hf, N
	if md == modePrefill {
		q.rows(kGatherRows, B, a.hg, a.hf, a.gather, B, d)
		h, rows = a.hg, B
	}
	q.gemm(false, true, rows, V, d, 1, h, d, e.weight(iWTE), d, 0, a.logits, V)
	if md == modeFull && c.ValueHead {
		e.linear(q, a.val, a.hf, e.weight(lnf+2), e.weight(lnf+3), N, d, 1)
	}
}

// linear is y = x·W + b (Conv1D layout, W [in,out]).
func (e *Engine) linear(q *queue, y, x, w, b ptr, n, in, out int) {
	q.gemm(false, false, n, out, in, 1, x, in, w, out, 0, y, out)
	q.rows(kBiasAdd, n, y, b, n, out)
}

// residual is y = r + b + x·W: one kernel sets y to r + b, and the GEMM
// adds x·W to it.
func (e *Engine) residual(q *queue, y, r, x, w, b ptr, n, in, out int) {
	q.rows(kResidualBias, n, y, r, b, n, out)
	q.gemm(false, false, n, out, in, 1, x, in, w, out, 1, y, out)
}

// attention is causal multi-head attention of layer l over the heads laid
// out head-major (a.qkvh[l]), so that each product is one strided-batched
// GEMM over all B·H (row, head) pairs: the scores into a.p[l] ([B, H, T,
// T]), which a kernel masks and normalises, then the weighted values,
// merged back into the row-major a.att[l].
func (e *Engine) attention(q *queue, a *acts, l, B, T int) {
	c := e.cfg
	H, hd := c.NHead, c.HeadDim()
	scale := float32(1 / math.Sqrt(float64(hd)))
	qh, p, BH, nd := a.qkvh[l], a.p[l], B*H, a.N*c.DModel
	kh, vh := off(qh, nd), off(qh, 2*nd)
	q.rows(kSplitHeads, B*T, qh, a.qkv, 3, B, T, H, hd)
	q.gemmBatched(false, true, T, T, hd, scale, qh, hd, T*hd, kh, hd, T*hd, 0, p, T, T*T, BH)
	q.rows(kSoftmaxCausal, BH*T, p, BH*T, T)
	q.gemmBatched(false, false, T, hd, T, 1, p, T, T*T, vh, hd, T*hd, 0, a.oh, hd, T*hd, BH)
	q.rows(kMergeHeads, B*T, a.att[l], a.oh, 1, B, T, H, hd)
}

// seqSpan locates a sequence's scored tokens in a batch: positions off …
// off+n−1 of the flattened [B, T] layout predict them.
type seqSpan struct{ off, n int }

// load validates seqs and lays them out as B = len(seqs) rows of their
// longest length: ids (padding 0: causal attention keeps padding from
// reaching real positions, so its id does not matter), positions, and targets (−1 where
// nothing is scored).
func (e *Engine) load(seqs []core.Sequence) (T int, ids, pos, targets []int32, spans []seqSpan, err error) {
	if len(seqs) == 0 {
		return 0, nil, nil, nil, nil, fmt.Errorf("cuda: forward pass over no sequences")
	}
	for _, s := range seqs {
		T = max(T, len(s.Tokens))
	}
	if T > e.cfg.Context {
		return 0, nil, nil, nil, nil, fmt.Errorf("cuda: a sequence of %d tokens exceeds the context of %d", T, e.cfg.Context)
	}
	N := len(seqs) * T
	ids, pos, targets = make([]int32, N), make([]int32, N), make([]int32, N)
	for i := range ids {
		ids[i], pos[i], targets[i] = 0, int32(i%T), -1
	}
	for r, s := range seqs {
		if s.Start < 1 || s.Start > len(s.Tokens) {
			return 0, nil, nil, nil, nil, fmt.Errorf("cuda: sequence %d: start %d outside [1,%d]", r, s.Start, len(s.Tokens))
		}
		base := r * T
		for i, t := range s.Tokens {
			if t < 0 || t >= e.cfg.VocabSize {
				return 0, nil, nil, nil, nil, fmt.Errorf("cuda: sequence %d: token %d outside the vocabulary [0,%d)", r, t, e.cfg.VocabSize)
			}
			ids[base+i] = int32(t)
			if i >= s.Start {
				targets[base+i-1] = int32(t)
			}
		}
		spans = append(spans, seqSpan{off: base + s.Start - 1, n: len(s.Tokens) - s.Start})
	}
	return T, ids, pos, targets, spans, nil
}

// pending is what Backward needs of the last LogProbs: where each
// sequence's scored tokens are, and its ids and lengths for the embedding
// gradient.
type pending struct {
	spans []seqSpan
	temp  float64
	ids   []int32
	lens  []int
}

// run is LogProbs and Score: a forward pass over seqs in a, with the
// per-token results copied to the host.
func (e *Engine) run(a *acts, seqs []core.Sequence, opts core.ForwardOptions) (*core.Forward, *pending, error) {
	temp, err := opts.Temp()
	if err != nil {
		return nil, nil, fmt.Errorf("cuda: %w", err)
	}
	T, ids, pos, targets, spans, err := e.load(seqs)
	if err != nil {
		return nil, nil, err
	}
	B, N, V := len(seqs), len(ids), e.cfg.VocabSize
	logp, val, ent := make([]float32, N), make([]float32, N), make([]float64, N)
	err = e.dev.do(func(q *queue) {
		a.shape(q, e, B, T, B*T)
		a.loadInts(q, ids, pos, targets)
		e.forward(q, a, modeFull)
		entPtr := ptr(0)
		if opts.Entropy {
			entPtr = a.ent
		}
		q.rows(kLogPFwd, N, a.logp, entPtr, a.logits, a.targets, N, V, temp)
		toHost(q, logp, a.logp)
		if e.cfg.ValueHead {
			toHost(q, val, a.val)
		}
		if opts.Entropy {
			toHost(q, ent, a.ent)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	f := &core.Forward{LogP: make([][]float64, B)}
	if e.cfg.ValueHead {
		f.Values = make([][]float64, B)
	}
	if opts.Entropy {
		f.Entropy = make([][]float64, B)
	}
	for i, s := range spans {
		f.LogP[i] = widen(logp[s.off : s.off+s.n])
		if f.Values != nil {
			f.Values[i] = widen(val[s.off : s.off+s.n])
		}
		if f.Entropy != nil {
			f.Entropy[i] = append([]float64{}, ent[s.off:s.off+s.n]...)
		}
	}
	pd := &pending{spans: spans, temp: temp, ids: ids, lens: make([]int, B)}
	for i, s := range seqs {
		pd.lens[i] = len(s.Tokens)
	}
	return f, pd, nil
}

func widen(xs []float32) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// LogProbs implements core.Engine; the activations stay on the device for
// Backward.
func (e *Engine) LogProbs(seqs []core.Sequence, opts core.ForwardOptions) (*core.Forward, error) {
	e.pending = nil
	f, pd, err := e.run(&e.train, seqs, opts)
	if err != nil {
		return nil, err
	}
	e.pending = pd
	return f, nil
}

// Score implements core.Engine on activations of its own, so a pending
// LogProbs stays intact.
func (e *Engine) Score(seqs []core.Sequence, opts core.ForwardOptions) (*core.Forward, error) {
	f, _, err := e.run(&e.score, seqs, opts)
	return f, err
}
