package kernels

import (
	"fmt"
	"math"
)

// MoERoute picks each row's k largest of e router logits and their gates,
// the softmax over the selected logits only (Mixtral's routing; Switch's
// softmax over all experts differs by a per-row factor). sel[i*k+j] is the
// expert of slot j of row i, slots in descending logit order; ties go to
// the lower expert index, so the choice is a function of the logits alone.
func MoERoute[T Float](sel []int, gate []T, logits []T, n, e, k int) {
	if k < 1 || k > e {
		panic(fmt.Sprintf("kernels.MoERoute: top-k %d outside [1,%d]", k, e))
	}
	checkLen("MoERoute", "logits", len(logits), n*e)
	checkLen("MoERoute", "sel", len(sel), n*k)
	checkLen("MoERoute", "gate", len(gate), n*k)
	for i := 0; i < n; i++ {
		row := logits[i*e : (i+1)*e]
		s := sel[i*k : (i+1)*k]
		topK(s, row)
		m := float64(row[s[0]])
		var z float64
		g := gate[i*k : (i+1)*k]
		for j, ex := range s {
			v := math.Exp(float64(row[ex]) - m)
			g[j] = T(v)
			z += v
		}
		for j := range g {
			g[j] = T(float64(g[j]) / z)
		}
	}
}

// topK fills s with the indices of the len(s) largest entries of row in
// descending order; a later index only displaces an earlier one when it is
// strictly larger, which breaks ties towards the lower index.
func topK[T Float](s []int, row []T) {
	n := 0
	for ex, v := range row {
		if n == len(s) && !(v > row[s[n-1]]) {
			continue
		}
		j := min(n, len(s)-1)
		for j > 0 && v > row[s[j-1]] {
			s[j] = s[j-1]
			j--
		}
		s[j] = ex
		n = min(n+1, len(s))
	}
}

// MoE evaluates a mixture-of-experts MLP, y_i = Σ_j g_ij·f_{e_ij}(x_i) over
// each row's k selected experts with f_e(x) = gelu(x·W1_e + b1_e)·W2_e + b2_e
// (dropless: every row reaches its k experts, no capacity limit), and keeps
// what Backward needs. Each expert runs as two dense products over the rows
// routed to it, so the work is k/E of evaluating every expert on every row.
// A MoE is reused across calls of the same or other sizes; it is not safe
// for concurrent use.
type MoE[T Float] struct {
	N, D, E, K, H int
	// Sel and Gate are the routing of the last Forward (MoERoute).
	Sel  []int
	Gate []T
	// row[i*K+j] is the row of slot (i, j) in its expert's batch.
	row []int
	// Per expert: the routed (token·K+slot) in ascending order, gathered
	// inputs [n_e,D], pre-activations' gelu derivative and activations
	// [n_e,H], and outputs [n_e,D].
	slots     [][]int
	xs, dg, u [][]T
	o         [][]T
	// backward scratch
	do, da, dxs []T
}

// Counts returns how many rows the last Forward routed to each expert
// (every row counts once per selected expert).
func (m *MoE[T]) Counts() []int {
	c := make([]int, m.E)
	for ex, s := range m.slots {
		c[ex] = len(s)
	}
	return c
}

func growT[T Float](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

// Forward writes y [N,D] from x [N,D] and logits [N,E]; w1[e] is [D,H],
// b1[e] [H], w2[e] [H,D], b2[e] [D] (GPT-2's Conv1D layout). Rows are
// combined in slot order, so y depends on the routing and the weights only.
func (m *MoE[T]) Forward(y, x, logits []T, w1, b1, w2, b2 [][]T, n, d, e, k, h int) {
	checkLen("MoE", "x", len(x), n*d)
	checkLen("MoE", "y", len(y), n*d)
	for _, w := range [][][]T{w1, b1, w2, b2} {
		checkLen("MoE", "experts", len(w), e)
	}
	m.N, m.D, m.E, m.K, m.H = n, d, e, k, h
	if cap(m.Sel) < n*k {
		m.Sel, m.row = make([]int, n*k), make([]int, n*k)
	}
	m.Sel, m.row = m.Sel[:n*k], m.row[:n*k]
	m.Gate = growT(m.Gate, n*k)
	MoERoute(m.Sel, m.Gate, logits, n, e, k)
	if len(m.slots) < e {
		m.slots = make([][]int, e)
		m.xs, m.dg, m.u, m.o = make([][]T, e), make([][]T, e), make([][]T, e), make([][]T, e)
	}
	for ex := 0; ex < e; ex++ {
		m.slots[ex] = m.slots[ex][:0]
	}
	for s, ex := range m.Sel {
		m.row[s] = len(m.slots[ex])
		m.slots[ex] = append(m.slots[ex], s)
	}
	for ex := 0; ex < e; ex++ {
		checkLen("MoE", "c_fc.weight", len(w1[ex]), d*h)
		checkLen("MoE", "c_fc.bias", len(b1[ex]), h)
		checkLen("MoE", "c_proj.weight", len(w2[ex]), h*d)
		checkLen("MoE", "c_proj.bias", len(b2[ex]), d)
		ne := len(m.slots[ex])
		xs := growT(m.xs[ex], ne*d)
		a := growT(m.dg[ex], ne*h) // pre-activation, then gelu'
		u := growT(m.u[ex], ne*h)
		o := growT(m.o[ex], ne*d)
		m.xs[ex], m.dg[ex], m.u[ex], m.o[ex] = xs, a, u, o
		if ne == 0 {
			continue
		}
		for r, s := range m.slots[ex] {
			i := s / k
			copy(xs[r*d:(r+1)*d], x[i*d:(i+1)*d])
			copy(u[r*h:(r+1)*h], b1[ex])
			copy(o[r*d:(r+1)*d], b2[ex])
		}
		Gemm(false, false, ne, h, d, 1, xs, d, w1[ex], h, 1, u, h)
		copy(a, u)
		GELUWithDerivative(u, a, a)
		Gemm(false, false, ne, d, h, 1, u, h, w2[ex], d, 1, o, d)
	}
	clear(y)
	for i := 0; i < n; i++ {
		yi := y[i*d : (i+1)*d]
		for j := 0; j < k; j++ {
			s := i*k + j
			r := m.row[s]
			axpy(yi, m.o[m.Sel[s]][r*d:(r+1)*d], m.Gate[s])
		}
	}
}

// Backward turns dy [N,D] into dx [N,D], dlogits [N,E] (zero outside each
// row's selection: the choice itself has no gradient) and every expert's
// weight gradients, from the state the last Forward left; it overwrites
// its outputs. With c_j = dy_i·f_{e_ij}(x_i), the gates' softmax gives
// dlogit_{e_ij} = g_ij (c_j − Σ_l g_il c_l).
func (m *MoE[T]) Backward(dx, dlogits []T, dw1, db1, dw2, db2 [][]T, dy []T, w1, w2 [][]T) {
	n, d, e, k, h := m.N, m.D, m.E, m.K, m.H
	checkLen("MoEBackward", "dy", len(dy), n*d)
	checkLen("MoEBackward", "dx", len(dx), n*d)
	checkLen("MoEBackward", "dlogits", len(dlogits), n*e)
	clear(dlogits)
	c := make([]float64, k)
	for i := 0; i < n; i++ {
		dyi := dy[i*d : (i+1)*d]
		var mean float64
		for j := 0; j < k; j++ {
			s := i*k + j
			r := m.row[s]
			c[j] = dot64(dyi, m.o[m.Sel[s]][r*d:(r+1)*d])
			mean += float64(m.Gate[s]) * c[j]
		}
		for j := 0; j < k; j++ {
			s := i*k + j
			dlogits[i*e+m.Sel[s]] = T(float64(m.Gate[s]) * (c[j] - mean))
		}
	}
	clear(dx)
	for ex := 0; ex < e; ex++ {
		ne := len(m.slots[ex])
		if ne == 0 {
			clear(dw1[ex])
			clear(db1[ex])
			clear(dw2[ex])
			clear(db2[ex])
			continue
		}
		do := growT(m.do, ne*d)
		da := growT(m.da, ne*h)
		dxs := growT(m.dxs, ne*d)
		m.do, m.da, m.dxs = do, da, dxs
		for r, s := range m.slots[ex] {
			i, g := s/k, m.Gate[s]
			dr := do[r*d : (r+1)*d]
			for j, v := range dy[i*d : (i+1)*d] {
				dr[j] = g * v
			}
		}
		colSumInto(db2[ex], do, ne, d)
		Gemm(true, false, h, d, ne, 1, m.u[ex], h, do, d, 0, dw2[ex], d)
		Gemm(false, true, ne, h, d, 1, do, d, w2[ex], d, 0, da, h)
		for j, v := range m.dg[ex][:ne*h] {
			da[j] *= v
		}
		colSumInto(db1[ex], da, ne, h)
		Gemm(true, false, d, h, ne, 1, m.xs[ex], d, da, h, 0, dw1[ex], h)
		Gemm(false, true, ne, d, h, 1, da, h, w1[ex], h, 0, dxs, d)
		for r, s := range m.slots[ex] {
			i := s / k
			axpy(dx[i*d:(i+1)*d], dxs[r*d:(r+1)*d], 1)
		}
	}
}

func colSumInto[T Float](out, x []T, rows, n int) {
	clear(out)
	for i := 0; i < rows; i++ {
		for j, v := range x[i*n : (i+1)*n] {
			out[j] += v
		}
	}
}

// RouterLosses are a router's auxiliary losses over the unmasked rows of
// one layer, and its utilisation.
type RouterLosses struct {
	// Balance is Switch's load-balancing loss E·Σ_e f_e·P_e, with f_e the
	// fraction of routing assignments (row, slot) that went to expert e
	// (Σ_e f_e = 1; it carries no gradient) and P_e the mean over rows of
	// the softmax over all E logits. It is 1 when both are uniform.
	Balance float64
	// Z is ST-MoE's router z-loss, the mean over rows of logsumexp(logits)².
	Z float64
	// Frac is f_e.
	Frac []float64
}

// MoERouterLosses computes RouterLosses of logits [N,E] over the rows with
// mask[i] (all rows when mask is nil) under top-k routing, and adds
// wBalance·dBalance/dlogits + wZ·dZ/dlogits into dlogits (nil: no
// gradient). With no unmasked row both losses are 0.
func MoERouterLosses(dlogits, logits []float64, mask []bool, n, e, k int, wBalance, wZ float64) RouterLosses {
	checkLen("MoERouterLosses", "logits", len(logits), n*e)
	out := RouterLosses{Frac: make([]float64, e)}
	sel := make([]int, k)
	p := make([]float64, n*e)
	lse := make([]float64, n)
	P := make([]float64, e)
	rows := 0
	for i := 0; i < n; i++ {
		if mask != nil && !mask[i] {
			continue
		}
		rows++
		row := logits[i*e : (i+1)*e]
		topK(sel, row)
		for _, ex := range sel {
			out.Frac[ex]++
		}
		mx := row[0]
		for _, v := range row[1:] {
			mx = math.Max(mx, v)
		}
		var z float64
		for _, v := range row {
			z += math.Exp(v - mx)
		}
		l := mx + math.Log(z)
		lse[i] = l
		pi := p[i*e : (i+1)*e]
		for ex, v := range row {
			pi[ex] = math.Exp(v - l)
			P[ex] += pi[ex]
		}
		out.Z += l * l
	}
	if rows == 0 {
		return out
	}
	M := float64(rows)
	for ex := range P {
		out.Frac[ex] /= M * float64(k)
		P[ex] /= M
		out.Balance += out.Frac[ex] * P[ex]
	}
	out.Balance *= float64(e)
	out.Z /= M
	if dlogits == nil {
		return out
	}
	checkLen("MoERouterLosses", "dlogits", len(dlogits), n*e)
	for i := 0; i < n; i++ {
		if mask != nil && !mask[i] {
			continue
		}
		pi := p[i*e : (i+1)*e]
		var fp float64
		for ex, v := range pi {
			fp += out.Frac[ex] * v
		}
		for ex, v := range pi {
			dlogits[i*e+ex] += wBalance*float64(e)/M*v*(out.Frac[ex]-fp) + wZ*2/M*lse[i]*v
		}
	}
	return out
}
