//go:build grao_cuda

package cuda

import (
	"fmt"
	"slices"
)

// acts are the device buffers of one forward pass over B rows of T
// positions (N = B·T), and for a training pass what its backward needs.
// A training set keeps every layer's activations; the others (Score,
// sampling) let the layers share one set, since nothing reads them later.
type acts struct {
	B, T, N int
	train   bool
	// lrows is the number of logit rows: N, or B for a prefill, which
	// needs only each prompt's last position.
	lrows int

	ar arena
	// ids, pos and targets are int32 [N]; rows (sampling) the KV-cache row
	// of each position, gather the positions a prefill takes logits at.
	// They lie one after another, in this order, so that one copy loads
	// them (loadInts).
	ids, pos, targets, rows, gather ptr
	// xs[l] is the residual stream entering layer l (xs[L] leaves the last).
	xs                           []ptr
	h1, p, att, xmid, h2, fc, gl []ptr
	// qkvh[l] is layer l's q, k and v head-major ([3, B, H, T, hd]),
	// which attention and its backward read. qkv, the QKV projection's
	// row-major output, is read only within a layer's forward (and, as
	// scratch, by the backward), so the layers share one buffer.
	qkvh []ptr
	qkv  ptr
	// oh is the attention output, or its gradient, head-major [B, H, T, hd].
	oh                                    ptr
	hf, hg, logits, logp, ent, val        ptr
	dx, dh, dhf, dqkv, datt, dfc, dlogits ptr
	dp, dlogp, dval                       ptr
	// csr is the embedding gradient's order of positions (embedOrder).
	csr ptr
}

// shape lays the buffers out for B×T, growing the arena when needed.
func (a *acts) shape(q *queue, e *Engine, B, T, lrows int) {
	a.B, a.T, a.N, a.lrows = B, T, B*T, lrows
	var probe arena
	a.carve(&probe, e)
	a.ar.reserve(q, probe.used)
	a.carve(&a.ar, e)
}

func (a *acts) carve(ar *arena, e *Engine) {
	c := e.cfg
	d, V, L, N := c.DModel, c.VocabSize, c.NLayer, a.N
	att := a.B * c.NHead * a.T * a.T
	f := func(n int) ptr { return ar.take(4 * int64(n)) }
	ints := f(4*N + a.B)
	a.ids, a.pos, a.targets, a.rows, a.gather = ints, off(ints, N), off(ints, 2*N), off(ints, 3*N), off(ints, 4*N)
	layers := func(n int) []ptr {
		out := make([]ptr, L)
		for l := range out {
			if l == 0 || a.train {
				out[l] = f(n)
			} else {
				out[l] = out[0]
			}
		}
		return out
	}
	a.xs = append(layers(N*d), f(N*d))
	if !a.train {
		a.xs[L] = a.xs[0] // layer l reads xs[l] only before writing xs[l+1]
	}
	a.h1, a.p, a.att, a.xmid = layers(N*d), layers(att), layers(N*d), layers(N*d)
	a.h2, a.fc, a.gl = layers(N*d), layers(4*N*d), layers(4*N*d)
	a.qkv, a.qkvh, a.oh = f(3*N*d), layers(3*N*d), f(N*d)
	a.hf, a.hg, a.logits = f(N*d), f(a.B*d), f(a.lrows*V)
	a.logp, a.ent, a.val = f(N), ar.take(8*int64(N)), f(N)
	if a.train {
		a.dx, a.dh, a.dhf, a.datt = f(N*d), f(N*d), f(N*d), f(N*d)
		a.dqkv, a.dfc, a.dlogits, a.dp = f(3*N*d), f(4*N*d), f(N*V), f(att)
		a.dlogp, a.dval, a.csr = f(N), f(N), f(3*N+1)
	}
}

// loadInts copies ids, pos and, as far as given, targets, rows and gather
// to the device in one call (a copy from the host costs the GPU's host
// thread several microseconds, one per decode step matters); parts not
// needed before a needed one are zeros of their length.
func (a *acts) loadInts(q *queue, parts ...[]int32) {
	for i, p := range parts {
		want := a.N
		if i == 4 {
			want = a.B
		}
		if i > 4 || len(p) != want {
			q.fail(fmt.Errorf("cuda: int array %d of a pass has %d elements, not %d", i, len(p), want))
			return
		}
	}
	toDevice(q, a.ids, slices.Concat(parts...))
}
