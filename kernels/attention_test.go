package kernels

import (
	"fmt"
	"math"
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
