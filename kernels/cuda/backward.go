//go:build grao_cuda

package cuda

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/grao-lab/grao/core"
)

// Backward implements core.Engine: it back-propagates through the
// activations LogProbs kept and adds every weight's gradient to e.g.
func (e *Engine) Backward(dlogp, dvalues [][]float64) error {
	pd := e.pending
	if pd == nil {
		return fmt.Errorf("cuda: Backward without a pending LogProbs")
	}
	e.pending = nil
	if dlogp == nil && dvalues == nil {
		return nil
	}
	if e.frozen {
		return core.ErrFrozen
	}
	if len(dlogp) != len(pd.spans) || (dvalues != nil && len(dvalues) != len(pd.spans)) {
		return fmt.Errorf("cuda: Backward got gradients of %d and %d sequences, the forward pass had %d", len(dlogp), len(dvalues), len(pd.spans))
	}
	a := &e.train
	dl, dv := make([]float32, a.N), make([]float32, a.N)
	for i, s := range pd.spans {
		if len(dlogp[i]) != s.n || (dvalues != nil && len(dvalues[i]) != s.n) {
			return fmt.Errorf("cuda: Backward: sequence %d's gradient does not have its %d scored tokens", i, s.n)
		}
		for j := 0; j < s.n; j++ {
			dl[s.off+j] = float32(dlogp[i][j])
			if dvalues != nil {
				dv[s.off+j] = float32(dvalues[i][j])
			}
		}
	}
	csr, nkeys := embedOrder(pd.ids, a.T, pd.lens, e.cfg.VocabSize)
	err := e.dev.do(func(q *queue) {
		toDevice(q, a.dlogp, dl)
		toDevice(q, a.dval, dv)
		toDevice(q, a.csr, csr)
		e.backward(q, a, nkeys, pd.temp, dvalues != nil && e.cfg.ValueHead)
	})
	if err != nil {
		return err
	}
	e.nBackward++
	return nil
}

// backward is the chain rule through forward's modeFull pass, in reverse.
// Weight gradients accumulate into e.g (GEMMs with beta 1, kernels that
// add); activation gradients are overwritten.
func (e *Engine) backward(q *queue, a *acts, nkeys int, temp float64, value bool) {
	c := e.cfg
	d, V, N, L := c.DModel, c.VocabSize, a.N, c.NLayer
	eps := c.LNEps
	q.rows(kLogPBwd, N, a.dlogits, a.logits, a.targets, a.dlogp, N, V, temp)
	// logits = hf·wteᵀ
	q.gemm(false, false, N, d, V, 1, a.dlogits, V, e.weight(iWTE), d, 0, a.dhf, d)
	q.gemm(true, false, V, d, N, 1, a.dlogits, V, a.hf, d, 1, e.grad(iWTE), d)
	lnf := e.iLNF()
	if value { // val = hf·vw + vb
		q.gemm(false, true, N, d, 1, 1, a.dval, 1, e.weight(lnf+2), 1, 1, a.dhf, d)
		q.gemm(true, false, d, 1, N, 1, a.hf, d, a.dval, 1, 1, e.grad(lnf+2), 1)
		e.colSum(q, e.grad(lnf+3), a.dval, N, 1)
	}
	e.layerNormBackward(q, a, a.dx, a.dhf, a.xs[L], lnf, false, eps)
	for l := L - 1; l >= 0; l-- {
		w := func(which int) ptr { return e.weight(blockTensor(l, which)) }
		g := func(which int) ptr { return e.grad(blockTensor(l, which)) }
		// xs[l+1] = xmid + gelu(h2·FCW + FCB)·FC2W + FC2B
		q.gemm(false, true, N, 4*d, d, 1, a.dx, d, w(bFC2W), d, 0, a.dfc, 4*d)
		q.gemm(true, false, 4*d, d, N, 1, a.gl[l], 4*d, a.dx, d, 1, g(bFC2W), d)
		e.colSum(q, g(bFC2B), a.dx, N, d)
		q.elems(kGELUBwd, 4*N*d, a.dfc, a.dfc, a.fc[l], 4*N*d)
		q.gemm(true, false, d, 4*d, N, 1, a.h2[l], d, a.dfc, 4*d, 1, g(bFCW), 4*d)
		e.colSum(q, g(bFCB), a.dfc, N, 4*d)
		q.gemm(false, true, N, d, 4*d, 1, a.dfc, 4*d, w(bFCW), 4*d, 0, a.dh, d)
		e.layerNormBackward(q, a, a.dx, a.dh, a.xmid[l], blockTensor(l, bLN2G), true, eps)
		// xmid = xs[l] + att·ProjW + ProjB
		q.gemm(false, true, N, d, d, 1, a.dx, d, w(bProjW), d, 0, a.datt, d)
		q.gemm(true, false, d, d, N, 1, a.att[l], d, a.dx, d, 1, g(bProjW), d)
		e.colSum(q, g(bProjB), a.dx, N, d)
		e.attentionBackward(q, a, l)
		q.gemm(true, false, d, 3*d, N, 1, a.h1[l], d, a.dqkv, 3*d, 1, g(bAttnW), 3*d)
		e.colSum(q, g(bAttnB), a.dqkv, N, 3*d)
		q.gemm(false, true, N, d, 3*d, 1, a.dqkv, 3*d, w(bAttnW), 3*d, 0, a.dh, d)
		e.layerNormBackward(q, a, a.dx, a.dh, a.xs[l], blockTensor(l, bLN1G), true, eps)
	}
	// Token embeddings: per distinct id, its positions (a.csr) in order.
	q.rows(kEmbedBwd, nkeys, e.grad(iWTE), a.dx, a.csr, off(a.csr, nkeys), off(a.csr, 2*nkeys+1), d)
	// Position embeddings: row b's position t is t, so wpe's first T rows
	// take the column sums of dx seen as [B, T·d].
	e.colSum(q, e.grad(iWPE), a.dx, a.B, a.T*d)
}

// colSum adds the column sums of x ([n, cols], rows in order) to out: one
// GEMM, ones[1, n]·x, which cuBLAS spreads over the whole GPU (a thread
// per column would leave most of it idle) and which gives the same bits
// on every run.
func (e *Engine) colSum(q *queue, out, x ptr, n, cols int) {
	if q.err != nil {
		return
	}
	if e.nOnes < n {
		if e.nOnes > 0 {
			memFree(e.ones)
			e.nOnes = 0
		}
		p, err := memAlloc(4 * int64(n))
		if err != nil {
			q.fail(fmt.Errorf("cuda: allocating %d ones: %w", n, err))
			return
		}
		e.ones, e.nOnes = p, n
		q.fill(e.ones, math.Float32bits(1), n)
	}
	q.gemm(false, false, 1, cols, n, 1, e.ones, n, x, cols, 1, out, cols)
}

// embedOrder is the host's counting sort of a batch's token ids for the
// embedding gradient: keys (the distinct ids, ascending), starts (where
// each key's positions begin in order, and the end) and order (positions,
// ascending within a key), packed as keys ‖ starts ‖ order, and the number
// of keys. Padding positions (past a row's length) are left out: nothing
// scored depends on them, so their gradient is exactly zero.
func embedOrder(ids []int32, T int, lens []int, vocab int) ([]int32, int) {
	count := make([]int32, vocab)
	n := 0
	for r, l := range lens {
		for _, id := range ids[r*T : r*T+l] {
			count[id]++
			n++
		}
	}
	var keys, starts []int32
	at := make([]int32, vocab)
	var pos int32
	for id, c := range count {
		if c > 0 {
			keys = append(keys, int32(id))
			starts = append(starts, pos)
			at[id] = pos
			pos += c
		}
	}
	starts = append(starts, pos)
	order := make([]int32, n)
	for r, l := range lens {
		for i := r * T; i < r*T+l; i++ {
			order[at[ids[i]]] = int32(i)
			at[ids[i]]++
		}
	}
	return slices.Concat(keys, starts, order), len(keys)
}

// layerNormBackward writes (or, with acc, adds) dx of y = LN(x) given dy,
// and adds the gain's and bias's gradients (tensors gain and gain+1, one
// after the other in e.g, as all neighbouring tensors) as the column sums
// of the [N, 2d] products the kernel leaves in a.dfc, free at every layer
// norm.
func (e *Engine) layerNormBackward(q *queue, a *acts, dx, dy, x ptr, gain int, acc bool, eps float64) {
	d, N := e.cfg.DModel, a.N
	accumulate := 0
	if acc {
		accumulate = 1
	}
	q.rows(kLayerNormBwd, N, dx, a.dfc, dy, x, e.weight(gain), N, d, eps, accumulate)
	e.colSum(q, e.grad(gain), a.dfc, N, 2*d)
}

// attentionBackward turns a.datt (gradient of layer l's attention output)
// into a.dqkv, recomputing nothing: the probabilities are in a.p[l], q, k
// and v head-major in a.qkvh[l]. Like the forward pass, each product is
// one strided-batched GEMM over the B·H (row, head) pairs, head-major,
// with a.oh holding dO and a.qkv, free by then, the head-major dQ, dK, dV.
//
//	dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P∘(dP − rowsum(P∘dP)),
//	dQ = scale·dS·K,  dK = scale·dSᵀ·Q.
func (e *Engine) attentionBackward(q *queue, a *acts, l int) {
	c := e.cfg
	H, hd, T, B := c.NHead, c.HeadDim(), a.T, a.B
	scale := float32(1 / math.Sqrt(float64(hd)))
	qh, p, BH, nd := a.qkvh[l], a.p[l], B*H, a.N*c.DModel
	kh, vh := off(qh, nd), off(qh, 2*nd)
	dqh := a.qkv
	dkh, dvh := off(dqh, nd), off(dqh, 2*nd)
	q.rows(kSplitHeads, B*T, a.oh, a.datt, 1, B, T, H, hd)
	q.gemmBatched(true, false, T, hd, T, 1, p, T, T*T, a.oh, hd, T*hd, 0, dvh, hd, T*hd, BH)
	q.gemmBatched(false, true, T, T, hd, 1, a.oh, hd, T*hd, vh, hd, T*hd, 0, a.dp, T, T*T, BH)
	q.rows(kSoftmaxCausalBwd, BH*T, a.dp, p, BH*T, T)
	q.gemmBatched(false, false, T, hd, T, scale, a.dp, T, T*T, kh, hd, T*hd, 0, dqh, hd, T*hd, BH)
	q.gemmBatched(true, false, T, hd, T, scale, a.dp, T, T*T, qh, hd, T*hd, 0, dkh, hd, T*hd, BH)
	q.rows(kMergeHeads, B*T, a.dqkv, dqh, 3, B, T, H, hd)
}

// Step implements core.Engine: optim.AdamW's update on the device, with
// the global gradient norm reduced there and summed on the host.
func (e *Engine) Step() (core.StepStats, error) {
	if e.frozen {
		return core.StepStats{}, core.ErrFrozen
	}
	if e.nBackward == 0 {
		return core.StepStats{}, fmt.Errorf("cuda: Step without Backward")
	}
	e.nBackward = 0
	partial := make([]float64, sumsqBlocks)
	err := e.dev.do(func(q *queue) {
		q.launch(kSumSq, sumsqBlocks, 1, 0, e.partial, e.g, e.total)
		toHost(q, partial, e.partial)
	})
	if err != nil {
		return core.StepStats{}, err
	}
	var sq float64
	for _, s := range partial {
		sq += s
	}
	norm := math.Sqrt(sq)
	st := core.StepStats{GradNorm: norm}
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return st, errors.Join(fmt.Errorf("cuda: gradient norm is %v at step %d", norm, e.updates+1), e.clearGrads())
	}
	oc := e.oc
	scale := 1.0
	if oc.ClipNorm > 0 && norm > oc.ClipNorm {
		scale, st.Clipped = oc.ClipNorm/norm, true
	}
	e.updates++
	lr := oc.LR * oc.Schedule.Factor(e.updates)
	st.LR = lr
	c1 := 1 - math.Pow(oc.Beta1, float64(e.updates))
	c2 := 1 - math.Pow(oc.Beta2, float64(e.updates))
	// The float32 constants of optim.AdamW, rounded there as here.
	stepSize := float64(float32(lr / c1))
	rc2 := float64(float32(1 / math.Sqrt(c2)))
	decay := float64(float32(1 - lr*oc.WeightDecay))
	err = e.dev.do(func(q *queue) {
		// One launch for every tensor: the ones without decay are e.plain.
		q.elems(kAdamW, e.total, e.w, e.m, e.v, e.g, e.total,
			float64(float32(scale)), oc.Beta1, oc.Beta2, decay, stepSize, rc2, oc.Eps, e.plain, e.nPlain)
		q.zero(e.g, e.total)
	})
	return st, err
}

func (e *Engine) clearGrads() error {
	return e.dev.do(func(q *queue) { q.zero(e.g, e.total) })
}
