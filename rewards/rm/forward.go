package rm

import (
	"fmt"

	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/kernels"
)

// scorer runs the reward model forward over one sequence with the
// float32 kernels that back the training graph (no gorgonia, no
// gradients), reusing its buffers. It only reads the params, so several
// scorers may share one *model.Params; a scorer itself is not safe for
// concurrent use.
type scorer struct {
	p                         *model.Params
	x, h, qkv, att, mlp, mlp2 []float32
}

func newScorer(p *model.Params) (*scorer, error) {
	if p == nil {
		return nil, fmt.Errorf("rm: nil params")
	}
	if !p.Config.ValueHead || p.VW == nil || p.VB == nil {
		return nil, fmt.Errorf("rm: the model has no value head (config value_head = false): not a reward model")
	}
	return &scorer{p: p}, nil
}

func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// reward returns the value head at the last position of ids.
func (s *scorer) reward(ids []int) (float64, error) {
	c := s.p.Config
	n, d := len(ids), c.DModel
	if n == 0 || n > c.Context {
		return 0, fmt.Errorf("rm: sequence of %d tokens, the model takes 1 to %d", n, c.Context)
	}
	for i, id := range ids {
		if id < 0 || id >= c.VocabSize {
			return 0, fmt.Errorf("rm: token %d at position %d outside the vocabulary [0,%d)", id, i, c.VocabSize)
		}
	}
	s.x, s.h, s.att = grow(s.x, n*d), grow(s.h, n*d), grow(s.att, n*d)
	s.qkv = grow(s.qkv, n*3*d)
	s.mlp, s.mlp2 = grow(s.mlp, n*4*d), grow(s.mlp2, n*4*d)
	kernels.Embed(s.x, s.p.WTE.Data, s.p.WPE.Data[:n*d], ids, n, d)
	for _, b := range s.p.Blocks {
		kernels.LayerNorm(s.h, s.x, b.LN1G.Data, b.LN1B.Data, n, d, c.LNEps, nil, nil)
		linear(s.qkv, s.h, b.AttnW.Data, b.AttnB.Data, n, d, 3*d, false)
		kernels.CausalAttention(s.att, s.qkv, 1, n, c.NHead, c.HeadDim())
		linear(s.x, s.att, b.ProjW.Data, b.ProjB.Data, n, d, d, true)
		kernels.LayerNorm(s.h, s.x, b.LN2G.Data, b.LN2B.Data, n, d, c.LNEps, nil, nil)
		linear(s.mlp, s.h, b.FCW.Data, b.FCB.Data, n, d, 4*d, false)
		kernels.GELU(s.mlp2, s.mlp)
		linear(s.x, s.mlp2, b.FC2W.Data, b.FC2B.Data, n, 4*d, d, true)
	}
	// Only the last position is read: final norm and head on one row.
	last := s.x[(n-1)*d : n*d]
	hf := s.h[:d]
	kernels.LayerNorm(hf, last, s.p.LNFG.Data, s.p.LNFB.Data, 1, d, c.LNEps, nil, nil)
	// Accumulate in float64: the dot product is the reward itself.
	v := float64(s.p.VB.Data[0])
	for j, w := range s.p.VW.Data {
		v += float64(hf[j]) * float64(w)
	}
	return v, nil
}

// linear computes y[n,out] = x[n,in]·w[in,out] + b, or adds that to y
// when acc is set (the residual connections).
func linear(y, x, w, b []float32, n, in, out int, acc bool) {
	for i := 0; i < n; i++ {
		yi := y[i*out : (i+1)*out]
		if acc {
			for j := range yi {
				yi[j] += b[j]
			}
		} else {
			copy(yi, b)
		}
	}
	kernels.Gemm(false, false, n, out, in, 1, x, in, w, out, 1, y, out)
}
