package kernels

import (
	"math"
	"runtime"
	"sync"
)

// CausalAttention computes causal multi-head self-attention for a batch of
// b sequences of length t. qkv is [b*t, 3d] as produced by GPT-2's c_attn
// (q in columns [0,d), k in [d,2d), v in [2d,3d); head h uses columns
// h*headDim..(h+1)*headDim of each), d = nHead*headDim. out is [b*t, d] with
// the heads concatenated. Scores are scaled by 1/sqrt(headDim).
//
// Each (sequence, head) pair is two strided GEMMs on views of qkv (no
// copies) around a masked, max-subtracted softmax of a t×t score block.
func CausalAttention[T Float](out, qkv []T, b, t, nHead, headDim int) {
	d := nHead * headDim
	checkLen("CausalAttention", "qkv", len(qkv), b*t*3*d)
	checkLen("CausalAttention", "out", len(out), b*t*d)
	parallelHeads(b, nHead, t*t, func(s []T, bi, h int) {
		q, k, v := headViews(qkv, bi, h, t, d, headDim)
		o := out[bi*t*d+h*headDim:]
		ld := 3 * d
		scale := T(1 / math.Sqrt(float64(headDim)))
		// Query block [q0,q1) sees keys [0,q1) only.
		block := causalBlockFor(t)
		for q0 := 0; q0 < t; q0 += block {
			q1 := min(q0+block, t)
			Gemm(false, true, q1-q0, q1, headDim, scale, q[q0*ld:], ld, k, ld, 0, s[q0*t:], t)
		}
		causalSoftmax(s, t)
		for q0 := 0; q0 < t; q0 += block {
			q1 := min(q0+block, t)
			Gemm(false, false, q1-q0, headDim, q1, 1, s[q0*t:], t, v, ld, 0, o[q0*d:], d)
		}
	})
}

// causalBlock is the query (and key) block size of the attention products:
// a block of queries multiplies only the keys up to its last one, which
// skips about a quarter of the work at t = 2·causalBlock and more beyond.
// The skipped terms are the mask's zeros (scores never read, or zero
// probabilities at the end or, transposed, the start of an element's sum),
// so on the native sgemm, whose elements do not depend on the products'
// shapes, the results are the same bits as full products
// (TestBlockedAttentionMatchesFull). Other backends keep whole products,
// and with them the bits of runs made before the blocking.
const causalBlock = 64

// causalBlockFor is the block size for sequences of length t on the
// current backend: t itself (one block) where blocking could change bits.
func causalBlockFor(t int) int {
	if ShapeIndependent(Current()) {
		return causalBlock
	}
	return max(t, 1)
}

// CausalAttentionBackward overwrites dqkv ([b*t, 3d]) with the gradient of
// Σ dout·out with respect to qkv. The attention probabilities P are
// recomputed from qkv (cheaper than storing b·nHead·t² values per layer):
//
//	dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P∘(dP - rowsum(P∘dP)),
//	dQ = scale·dS·K,  dK = scale·dSᵀ·Q.
func CausalAttentionBackward[T Float](dqkv, dout, qkv []T, b, t, nHead, headDim int) {
	d := nHead * headDim
	checkLen("CausalAttentionBackward", "qkv", len(qkv), b*t*3*d)
	checkLen("CausalAttentionBackward", "dqkv", len(dqkv), b*t*3*d)
	checkLen("CausalAttentionBackward", "dout", len(dout), b*t*d)
	parallelHeads(b, nHead, 2*t*t, func(s []T, bi, h int) {
		p, dp := s[:t*t], s[t*t:]
		q, k, v := headViews(qkv, bi, h, t, d, headDim)
		dq, dk, dv := headViews(dqkv, bi, h, t, d, headDim)
		do := dout[bi*t*d+h*headDim:]
		ld := 3 * d
		scale := T(1 / math.Sqrt(float64(headDim)))
		block := causalBlockFor(t)
		for q0 := 0; q0 < t; q0 += block {
			q1 := min(q0+block, t)
			Gemm(false, true, q1-q0, q1, headDim, scale, q[q0*ld:], ld, k, ld, 0, p[q0*t:], t)
			Gemm(false, true, q1-q0, q1, headDim, 1, do[q0*d:], d, v, ld, 0, dp[q0*t:], t)
		}
		causalSoftmax(p, t)
		for i := 0; i < t; i++ {
			pr, dr := p[i*t:i*t+i+1], dp[i*t:i*t+t]
			acc := dot64(pr, dr)
			for j, pv := range pr {
				dr[j] = pv * (dr[j] - T(acc))
			}
			clear(dr[i+1:])
		}
		for k0 := 0; k0 < t; k0 += block {
			k1 := min(k0+block, t)
			// Queries [k0,k1) see keys [0,k1); keys [k0,k1) are seen by
			// queries [k0,t).
			Gemm(false, false, k1-k0, headDim, k1, scale, dp[k0*t:], t, k, ld, 0, dq[k0*ld:], ld)
			Gemm(true, false, k1-k0, headDim, t-k0, 1, p[k0*t+k0:], t, do[k0*d:], d, 0, dv[k0*ld:], ld)
			Gemm(true, false, k1-k0, headDim, t-k0, scale, dp[k0*t+k0:], t, q[k0*ld:], ld, 0, dk[k0*ld:], ld)
		}
	})
}

// headViews returns the strided views (row stride 3d) of head h's q, k and
// v blocks of sequence bi inside a [b*t, 3d] buffer.
func headViews[T Float](qkv []T, bi, h, t, d, headDim int) (q, k, v []T) {
	base := bi*t*3*d + h*headDim
	return qkv[base:], qkv[base+d:], qkv[base+2*d:]
}

// causalSoftmax replaces each row i of the t×t score block s by the softmax
// of its first i+1 entries and zeroes the rest (future positions).
func causalSoftmax[T Float](s []T, t int) {
	for i := 0; i < t; i++ {
		row := s[i*t : i*t+t]
		softmaxInPlace(row[:i+1])
		clear(row[i+1:])
	}
}

// softmaxInPlace replaces row with softmax(row), subtracting the maximum
// first and summing in float64 (exp itself in T's precision).
func softmaxInPlace[T Float](row []T) {
	m := row[0]
	for _, x := range row[1:] {
		if x > m {
			m = x
		}
	}
	expShift(row, row, m)
	sum := sum64(row)
	inv := T(1 / sum)
	for j := range row {
		row[j] *= inv
	}
}

// attnWorkers caps the goroutines of parallelHeads when positive (a knob
// for benchmarks comparing serial and parallel execution).
var attnWorkers int

// minParallelWork is the per-call t²·headDim·pairs size below which fanning out
// to goroutines costs more than it saves.
const minParallelWork = 1 << 16

// parallelHeads runs fn for every (sequence, head) pair, each worker owning
// a scratch buffer of scratchLen elements. Work is split across at most
// GOMAXPROCS goroutines when there is enough of it; the pairs write disjoint
// parts of the outputs, so no synchronisation beyond the final wait is
// needed.
func parallelHeads[T Float](b, nHead, scratchLen int, fn func(scratch []T, bi, h int)) {
	pairs := b * nHead
	if pairs == 0 {
		return
	}
	workers := min(runtime.GOMAXPROCS(0), pairs)
	if attnWorkers > 0 {
		workers = min(attnWorkers, pairs)
	}
	if workers <= 1 || pairs*scratchLen < minParallelWork {
		s := make([]T, scratchLen)
		for p := 0; p < pairs; p++ {
			fn(s, p/nHead, p%nHead)
		}
		return
	}
	// Static interleaved assignment: pairs are equal-sized work. Worker 0
	// is this goroutine.
	work := func(w int) {
		s := make([]T, scratchLen)
		for p := w; p < pairs; p += workers {
			fn(s, p/nHead, p%nHead)
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			work(w)
		}(w)
	}
	work(0)
	wg.Wait()
}

// AttendOne is single-query attention for KV-cache decoding: q is the
// current position's query [d] (all heads), keys and values hold the n
// cached positions 0..n-1 with row stride d (the current position included
// as row n-1), out [d] receives the heads concatenated. scratch must have
// length >= n. It equals the last row of CausalAttention over the same
// positions.
func AttendOne[T Float](out, q, keys, values, scratch []T, n, nHead, headDim int) {
	d := nHead * headDim
	checkLen("AttendOne", "q", len(q), d)
	checkLen("AttendOne", "out", len(out), d)
	checkLen("AttendOne", "keys", len(keys), n*d)
	checkLen("AttendOne", "values", len(values), n*d)
	checkLen("AttendOne", "scratch", len(scratch), n)
	if n == 0 {
		clear(out[:d])
		return
	}
	scale := T(1 / math.Sqrt(float64(headDim)))
	s := scratch[:n]
	q32, isF32 := asF32(q)
	for h := 0; h < nHead; h++ {
		off := h * headDim
		oh := out[off : off+headDim]
		if isF32 {
			// All of a head's keys, then all of its values, in one loop
			// each: the same operations as the generic path below.
			k32, _ := asF32(keys[off:])
			s32, _ := asF32(s)
			dotKeys32(s32, q32[off:off+headDim], k32, d)
			for j := range s {
				s[j] *= scale
			}
			softmaxInPlace(s)
			o32, _ := asF32(oh)
			v32, _ := asF32(values[off:])
			axpyKeys32(o32, v32, s32, d)
			continue
		}
		qh := q[off : off+headDim]
		for j := range s {
			s[j] = dot(qh, keys[j*d+off:j*d+off+headDim]) * scale
		}
		softmaxInPlace(s)
		clear(oh)
		for j, p := range s {
			axpy(oh, values[j*d+off:j*d+off+headDim], p)
		}
	}
}

// dot is the inner product of a and b[:len(a)]: dot32 (vectorised, in a
// fixed lane order) for float32, four interleaved accumulators otherwise.
func dot[T Float](a, b []T) T {
	if a32, ok := asF32(a); ok {
		b32, _ := asF32(b[:len(a)])
		return T(dot32(a32, b32))
	}
	b = b[:len(a)]
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy computes y += alpha·x.
func axpy[T Float](y, x []T, alpha T) {
	if y32, ok := asF32(y); ok {
		x32, _ := asF32(x[:len(y)])
		axpy32(y32, x32, float32(alpha))
		return
	}
	x = x[:len(y)]
	for i := range y {
		y[i] += alpha * x[i]
	}
}
