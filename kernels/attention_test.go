package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveAttention is causal multi-head attention written out with explicit
// loops, sharing no code with the kernel.
func naiveAttention(qkv []float64, b, t, nHead, hd int) []float64 {
	d := nHead * hd
	out := make([]float64, b*t*d)
	scale := 1 / math.Sqrt(float64(hd))
	at := func(bi, i, col int) float64 { return qkv[(bi*t+i)*3*d+col] }
	for bi := 0; bi < b; bi++ {
		for h := 0; h < nHead; h++ {
			for i := 0; i < t; i++ {
				w := make([]float64, i+1)
				var z float64
				for j := 0; j <= i; j++ {
					var s float64
					for c := 0; c < hd; c++ {
						s += at(bi, i, h*hd+c) * at(bi, j, d+h*hd+c)
					}
					w[j] = math.Exp(s * scale)
					z += w[j]
				}
				for c := 0; c < hd; c++ {
					var o float64
					for j := 0; j <= i; j++ {
						o += w[j] / z * at(bi, j, 2*d+h*hd+c)
					}
					out[(bi*t+i)*d+h*hd+c] = o
				}
			}
		}
	}
	return out
}

var attnCases = []struct{ b, t, nHead, hd int }{
	{1, 1, 1, 1},
	{1, 1, 2, 3},
	{2, 3, 1, 4},
	{2, 5, 3, 5},  // d = 15, not a multiple of 8
	{3, 8, 2, 16}, // enough work to take the parallel path
	{4, 32, 4, 16},
}

func TestCausalAttention(t *testing.T) {
	for _, c := range attnCases {
		t.Run(fmt.Sprintf("b%d_t%d_h%d_hd%d", c.b, c.t, c.nHead, c.hd), func(t *testing.T) {
			d := c.nHead * c.hd
			qkv := fkRand(uint64(c.t*d), c.b*c.t*3*d, 2)
			want := naiveAttention(qkv, c.b, c.t, c.nHead, c.hd)
			out := fkRand(1, len(want), 9)
			CausalAttention(out, qkv, c.b, c.t, c.nHead, c.hd)
			fkClose(t, "out64", out, want, 1e-12, 1e-10)
			out32 := make([]float32, len(want))
			CausalAttention(out32, fkTo32(qkv), c.b, c.t, c.nHead, c.hd)
			fkClose(t, "out32", out32, want, 1e-5, 1e-4)
		})
	}
}

func TestCausalAttentionBackward(t *testing.T) {
	for _, c := range attnCases[:5] { // the largest case adds time, not coverage
		t.Run(fmt.Sprintf("b%d_t%d_h%d_hd%d", c.b, c.t, c.nHead, c.hd), func(t *testing.T) {
			d := c.nHead * c.hd
			qkv := fkRand(uint64(c.t*d)+3, c.b*c.t*3*d, 1.5)
			dout := fkRand(17, c.b*c.t*d, 1)
			dqkv := fkRand(18, len(qkv), 5) // garbage: must be overwritten
			CausalAttentionBackward(dqkv, dout, qkv, c.b, c.t, c.nHead, c.hd)
			out := make([]float64, len(dout))
			fkGradCheck(t, "dqkv", qkv, dqkv, func() float64 {
				CausalAttention(out, qkv, c.b, c.t, c.nHead, c.hd)
				return fkDot(out, dout)
			})
		})
	}
}

func TestAttendOneMatchesLastRow(t *testing.T) {
	for _, c := range attnCases {
		t.Run(fmt.Sprintf("t%d_h%d_hd%d", c.t, c.nHead, c.hd), func(t *testing.T) {
			d := c.nHead * c.hd
			qkv := fkRand(uint64(c.t)+5, c.t*3*d, 2)
			full := make([]float64, c.t*d)
			CausalAttention(full, qkv, 1, c.t, c.nHead, c.hd)
			// Every prefix length n: the KV cache holds positions 0..n-1.
			for n := 1; n <= c.t; n++ {
				keys := make([]float64, n*d)
				vals := make([]float64, n*d)
				for j := 0; j < n; j++ {
					copy(keys[j*d:], qkv[j*3*d+d:j*3*d+2*d])
					copy(vals[j*d:], qkv[j*3*d+2*d:j*3*d+3*d])
				}
				q := qkv[(n-1)*3*d : (n-1)*3*d+d]
				out := make([]float64, d)
				AttendOne(out, q, keys, vals, make([]float64, n+3), n, c.nHead, c.hd)
				fkClose(t, fmt.Sprintf("n=%d", n), out, full[(n-1)*d:n*d], 1e-12, 1e-10)

				out32 := make([]float32, d)
				AttendOne(out32, fkTo32(q), fkTo32(keys), fkTo32(vals), make([]float32, n), n, c.nHead, c.hd)
				fkClose(t, fmt.Sprintf("n=%d f32", n), out32, full[(n-1)*d:n*d], 1e-5, 1e-4)
			}
		})
	}
}

// BenchmarkCausalAttention times forward+backward at the small model's
// training shape (batch 16, t 64, 4 heads of 32) with the (sequence, head)
// pairs run serially and on GOMAXPROCS goroutines.
func BenchmarkCausalAttention(b *testing.B) {
	const bs, t, nh, hd = 16, 64, 4, 32
	d := nh * hd
	qkv := fkTo32(fkRand(1, bs*t*3*d, 1))
	dout := fkTo32(fkRand(2, bs*t*d, 1))
	out := make([]float32, bs*t*d)
	dqkv := make([]float32, len(qkv))
	for _, w := range []int{1, 0} {
		name := "serial"
		if w == 0 {
			name = "parallel"
		}
		b.Run(name, func(b *testing.B) {
			old := attnWorkers
			attnWorkers = w
			defer func() { attnWorkers = old }()
			for i := 0; i < b.N; i++ {
				CausalAttention(out, qkv, bs, t, nh, hd)
				CausalAttentionBackward(dqkv, dout, qkv, bs, t, nh, hd)
			}
		})
	}
}

// fullAttention is CausalAttention and its backward with every product over
// the whole t×t block (no causal blocking), on the current backend.
func fullAttention(out, dqkv, dout, qkv []float32, b, t, nHead, headDim int) {
	d := nHead * headDim
	ld := 3 * d
	scale := float32(1 / math.Sqrt(float64(headDim)))
	p, dp := make([]float32, t*t), make([]float32, t*t)
	for bi := 0; bi < b; bi++ {
		for h := 0; h < nHead; h++ {
			q, k, v := headViews(qkv, bi, h, t, d, headDim)
			dq, dk, dv := headViews(dqkv, bi, h, t, d, headDim)
			o, do := out[bi*t*d+h*headDim:], dout[bi*t*d+h*headDim:]
			Gemm(false, true, t, t, headDim, scale, q, ld, k, ld, 0, p, t)
			causalSoftmax(p, t)
			Gemm(false, false, t, headDim, t, 1, p, t, v, ld, 0, o, d)
			Gemm(true, false, t, headDim, t, 1, p, t, do, d, 0, dv, ld)
			Gemm(false, true, t, t, headDim, 1, do, d, v, ld, 0, dp, t)
			for i := 0; i < t; i++ {
				pr, dr := p[i*t:i*t+i+1], dp[i*t:i*t+t]
				acc := dot64(pr, dr)
				for j, pv := range pr {
					dr[j] = pv * (dr[j] - float32(acc))
				}
				clear(dr[i+1:])
			}
			Gemm(false, false, t, headDim, t, scale, dp, t, k, ld, 0, dq, ld)
			Gemm(true, false, t, headDim, t, scale, dp, t, q, ld, 0, dk, ld)
		}
	}
}

// TestBlockedAttentionMatchesFull: skipping the masked blocks changes no
// bit on the native sgemm; the other backends keep whole products.
func TestBlockedAttentionMatchesFull(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const b, tt, nHead, hd = 2, 2*causalBlock + 3, 2, 8
	d := nHead * hd
	qkv, dout := rndVec(rng, b*tt*3*d), rndVec(rng, b*tt*d)
	backends := []Backend{Gonum{}}
	if nb, err := NativeBackend(); err == nil {
		backends = append(backends, nb)
	}
	for _, be := range backends {
		t.Run(be.Name(), func(t *testing.T) {
			defer Use(Use(be))
			out, dqkv := make([]float32, b*tt*d), make([]float32, b*tt*3*d)
			CausalAttention(out, qkv, b, tt, nHead, hd)
			CausalAttentionBackward(dqkv, dout, qkv, b, tt, nHead, hd)
			wantOut, wantD := make([]float32, len(out)), make([]float32, len(dqkv))
			fullAttention(wantOut, wantD, dout, qkv, b, tt, nHead, hd)
			for name, pair := range map[string][2][]float32{"out": {out, wantOut}, "dqkv": {dqkv, wantD}} {
				for i := range pair[0] {
					g, w := pair[0][i], pair[1][i]
					if math.Float32bits(g) != math.Float32bits(w) {
						t.Fatalf("%s[%d] = %v, full products give %v", name, i, g, w)
					}
				}
			}
		})
	}
}
