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
	chooser Chooser // for the prefilled rows' first tokens
	lanes   []*lane
	eos     int // ends a completion
}

// A lane decodes a contiguous share of a block's rows on its own
// goroutine: rows never interact, so lanes run one per core with no
// synchronisation between steps, where splitting every small product of a
// step over the cores would wait for a woken core dozens of times per
// token. Its buffers are its own; the KV cache rows it touches are too.
type lane struct {
	dec            acts // decode-step activations, [active rows, ·]
	logits, scores []float32
	chooser        Chooser
	active         []int
}

// minLaneRows is the fewest rows worth a lane of their own: fewer rows
// per matrix product reuse each weight too little.
const minLaneRows = 8

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
	s.decode(rows, cfg)
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

// decode generates every row to its end. With several cores, on the native
// sgemm, the rows are split into contiguous lanes, one goroutine each (see
// lane). A row's tokens do not depend on the split: each row is computed
// alone in every kernel but the matrix products, whose elements do not
// depend on how many rows a product has there (kernels.ShapeIndependent,
// TestCoreCountDoesNotChangeResults). Other backends keep one lane, and the
// bits of runs made before lanes existed: OpenBLAS also slows down under
// many concurrent small calls (measured: batch-32 decoding 3× slower).
func (s *Sampler) decode(rows []*Row, cfg SampleConfig) {
	n := max(1, min(runtime.GOMAXPROCS(0), len(rows)/minLaneRows))
	if !kernels.ShapeIndependent(kernels.Current()) {
		n = 1
	}
	for len(s.lanes) < n {
		s.lanes = append(s.lanes, &lane{scores: make([]float32, s.p.Config.Context)})
	}
	if n == 1 {
		s.lanes[0].dec.serial = false
		s.decodeLane(s.lanes[0], rows, 0, len(rows), cfg)
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		ln := s.lanes[i]
		ln.dec.serial = true
		lo, hi := i*len(rows)/n, (i+1)*len(rows)/n
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.decodeLane(ln, rows, lo, hi, cfg)
		}()
	}
	wg.Wait()
}

// decodeLane generates rows[lo:hi] to their ends.
func (s *Sampler) decodeLane(ln *lane, rows []*Row, lo, hi int, cfg SampleConfig) {
	c := s.p.Config
	V := c.VocabSize
	for {
		ln.active = ln.active[:0]
		for r := lo; r < hi; r++ {
			if !rows[r].Done {
				ln.active = append(ln.active, r)
			}
		}
		if len(ln.active) == 0 {
			return
		}
		logits := s.step(ln, rows, ln.active)
		for i, r := range ln.active {
			rows[r].Pick(&ln.chooser, logits[i*V:(i+1)*V], cfg, s.eos, c.Context)
		}
	}
}

// step feeds each active row's last token at its position and returns the
// next-token logits, [len(active), V].
func (s *Sampler) step(ln *lane, rows []*Row, active []int) []float32 {
	c := s.p.Config
	d, n := c.DModel, len(active)
	a := &ln.dec
	a.size(n, d)
	for i, r := range active {
		s.p.embed(a.x[i*d:(i+1)*d], rows[r].Last, rows[r].Pos)
	}
	for l, b := range s.p.Blocks {
		s.p.attnIn(a, b, n)
		s.attendRows(ln, l, rows, active)
		s.p.blockOut(a, b, n)
	}
	kernels.LayerNorm(a.x, a.x, s.p.LNFG.Data, s.p.LNFB.Data, n, d, c.LNEps, nil, nil)
	ln.logits = logitsInto(a, s.p, ln.logits, a.x, n)
	logits := ln.logits
	for _, r := range active {
		rows[r].Pos++
	}
	return logits
}

// attendRows appends each active row's key/value to its cache and attends;
// rows are independent, so outside a lane they are spread over the cores.
func (s *Sampler) attendRows(ln *lane, l int, rows []*Row, active []int) {
	c := s.p.Config
	d := c.DModel
	st, a := s.st, &ln.dec
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
	if a.serial || workers <= 1 || len(active) < 8 {
		for i := range active {
			one(i, ln.scores)
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
		one(i, ln.scores)
	}
	wg.Wait()
}

func growF64(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	return buf[:n]
}
