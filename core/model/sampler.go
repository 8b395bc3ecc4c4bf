package model

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/kernels"
)

// SampleConfig and Completion are the engine contract's (core).
type (
	SampleConfig = core.SampleConfig
	Completion   = core.Completion
)

// Sampler generates with a KV cache over Params, outside gorgonia. It reads
// the weights at call time, so it always samples the current policy. Not
// safe for concurrent use.
type Sampler struct {
	p       *Params
	rows    int
	st      *state
	dec     acts // decode-step activations, [active rows, ·]
	chooser Chooser
	eos     int // ends a completion
}

// NewSampler prepares caches for up to maxRows sequences at a time.
func NewSampler(p *Params, maxRows int) *Sampler {
	return &Sampler{p: p, rows: maxRows, st: newState(p, maxRows), eos: p.Config.Specials().EOS}
}

// Generate completes each prompt (token ids, usually starting with BOS).
func (s *Sampler) Generate(prompts [][]int, cfg SampleConfig) ([]Completion, error) {
	return s.GenerateContext(context.Background(), prompts, cfg)
}

// GenerateContext is Generate that stops between blocks of rows once ctx
// is done (returning its error); the completions do not depend on it.
func (s *Sampler) GenerateContext(ctx context.Context, prompts [][]int, cfg SampleConfig) ([]Completion, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	out := make([]Completion, 0, len(prompts))
	for start := 0; start < len(prompts); start += s.rows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+s.rows, len(prompts))
		cs, err := s.generate(prompts[start:end], cfg, start)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

func (s *Sampler) generate(prompts [][]int, cfg SampleConfig, firstRow int) ([]Completion, error) {
	c := s.p.Config
	d, V := c.DModel, c.VocabSize
	rows := make([]*Row, len(prompts))
	// Prefill each row on its own: prompts may differ in length, and each
	// row keeps its own positions, so no padding ever enters the cache. A
	// prompt repeated in the batch (a group's G samples share one) is run
	// once: the later rows copy its cache and next-token logits, which is
	// the same computation's result, bit for bit.
	type prefilled struct {
		row    int
		logits []float32
	}
	done := map[string]prefilled{}
	for r, pr := range prompts {
		if len(pr) == 0 {
			return nil, fmt.Errorf("model: prompt %d is empty (start it with BOS)", firstRow+r)
		}
		if len(pr) >= c.Context {
			return nil, fmt.Errorf("model: prompt %d has %d tokens, the context is %d", firstRow+r, len(pr), c.Context)
		}
		key := promptKey(pr)
		pf, ok := done[key]
		if ok && sharePrefill {
			s.st.copyCache(pf.row, r, len(pr))
		} else {
			if err := s.st.prefill(r, pr, 0); err != nil {
				return nil, err
			}
			logits := s.st.logitsOf(s.st.act.x[(len(pr)-1)*d:len(pr)*d], 1)
			pf = prefilled{row: r, logits: slices.Clone(logits[:V])}
			done[key] = pf
		}
		rs := NewRow(len(pr), cfg.Seed, firstRow+r)
		rs.Pick(&s.chooser, pf.logits, cfg, s.eos, c.Context)
		rows[r] = rs
	}
	active := make([]int, 0, len(rows))
	for {
		active = active[:0]
		for r, rs := range rows {
			if !rs.Done {
				active = append(active, r)
			}
		}
		if len(active) == 0 {
			break
		}
		logits := s.step(rows, active)
		for i, r := range active {
			rows[r].Pick(&s.chooser, logits[i*V:(i+1)*V], cfg, s.eos, c.Context)
		}
	}
	out := make([]Completion, len(rows))
	for r, rs := range rows {
		out[r] = rs.Out
	}
	return out, nil
}

// sharePrefill is off only in the test that checks sharing changes nothing.
var sharePrefill = true

// promptKey identifies a prompt's token ids (as a map key).
func promptKey(ids []int) string {
	b := make([]byte, 0, 4*len(ids))
	for _, id := range ids {
		b = binary.LittleEndian.AppendUint32(b, uint32(id))
	}
	return string(b)
}

// step feeds each active row's last token at its position and returns the
// next-token logits, [len(active), V].
func (s *Sampler) step(rows []*Row, active []int) []float32 {
	c := s.p.Config
	d, n := c.DModel, len(active)
	a := &s.dec
	a.size(n, d)
	for i, r := range active {
		s.p.embed(a.x[i*d:(i+1)*d], rows[r].Last, rows[r].Pos)
	}
	for l, b := range s.p.Blocks {
		s.p.attnIn(a, b, n)
		s.attendRows(l, rows, active)
		s.p.blockOut(a, b, n)
	}
	kernels.LayerNorm(a.x, a.x, s.p.LNFG.Data, s.p.LNFB.Data, n, d, c.LNEps, nil, nil)
	logits := s.st.logitsOf(a.x, n)
	for _, r := range active {
		rows[r].Pos++
	}
	return logits
}

// attendRows appends each active row's key/value to its cache and attends;
// rows are independent, so they are spread over the cores.
func (s *Sampler) attendRows(l int, rows []*Row, active []int) {
	c := s.p.Config
	d := c.DModel
	st, a := s.st, &s.dec
	one := func(i int, scores []float32) {
		r := active[i]
		pos := rows[r].Pos
		kc, vc := st.k[l][r], st.v[l][r]
		q := a.qkv[i*3*d : (i+1)*3*d]
		copy(kc[pos*d:(pos+1)*d], q[d:2*d])
		copy(vc[pos*d:(pos+1)*d], q[2*d:3*d])
		kernels.AttendOne(a.att[i*d:(i+1)*d], q[:d], kc, vc, scores, pos+1, c.NHead, c.HeadDim())
	}
	workers := min(runtime.GOMAXPROCS(0), len(active))
	if workers <= 1 || len(active) < 8 {
		for i := range active {
			one(i, st.scores)
		}
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			scores := make([]float32, c.Context)
			for i := w; i < len(active); i += workers {
				one(i, scores)
			}
		}(w)
	}
	for i := 0; i < len(active); i += workers { // worker 0 is this goroutine
		one(i, st.scores)
	}
	wg.Wait()
}

func growF64(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	return buf[:n]
}
