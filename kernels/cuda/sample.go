//go:build grao_cuda

package cuda

import (
	"context"
	"fmt"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
)

// defaultSampleBlock is how many rows Sample decodes together when
// SampleConfig.Block is 0: a GPU wants wide decode steps.
const defaultSampleBlock = 256

// Sample implements core.Engine. Each block of rows is prefilled in one
// batched pass that fills the KV cache; every decode step then runs the
// block's active rows one position further on the device, copies their
// logits rows to the host and draws there (choose), so that the streams
// (cfg.Seed, r) and the top-k/top-p rules are the CPU sampler's.
func (e *Engine) Sample(ctx context.Context, prompts [][]int, cfg core.SampleConfig) ([]core.Completion, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	block := cfg.Block
	if block == 0 {
		block = defaultSampleBlock
	}
	block = max(1, min(block, len(prompts)))
	out := make([]core.Completion, 0, len(prompts))
	var ch model.Chooser
	for start := 0; start < len(prompts); start += block {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+block, len(prompts))
		cs, err := e.sampleBlock(prompts[start:end], cfg, start, block, &ch)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

func (e *Engine) sampleBlock(prompts [][]int, cfg core.SampleConfig, firstRow, block int, ch *model.Chooser) ([]core.Completion, error) {
	c := e.cfg
	V, eos := c.VocabSize, c.Specials().EOS
	T := 0
	for r, pr := range prompts {
		if len(pr) == 0 {
			return nil, fmt.Errorf("cuda: prompt %d is empty (start it with BOS)", firstRow+r)
		}
		if len(pr) >= c.Context {
			return nil, fmt.Errorf("cuda: prompt %d has %d tokens, the context is %d", firstRow+r, len(pr), c.Context)
		}
		for _, id := range pr {
			if id < 0 || id >= V {
				return nil, fmt.Errorf("cuda: prompt %d: token id %d outside the vocabulary [0,%d)", firstRow+r, id, V)
			}
		}
		T = max(T, len(pr))
	}
	B := len(prompts)
	N := B * T
	ids, pos, rowOf, last := make([]int32, N), make([]int32, N), make([]int32, N), make([]int32, B)
	for r, pr := range prompts {
		for i := 0; i < T; i++ {
			pos[r*T+i], rowOf[r*T+i] = int32(i), int32(r)
			if i < len(pr) {
				ids[r*T+i] = int32(pr[i])
			}
		}
		last[r] = int32(r*T + len(pr) - 1)
	}
	logits := make([]float32, B*V)
	err := e.dev.do(func(q *queue) {
		e.reserveCache(q, block)
		a := &e.prefill
		a.shape(q, e, B, T, B)
		a.loadInts(q, ids, pos, make([]int32, N), rowOf, last)
		e.forward(q, a, modePrefill)
		toHost(q, logits, a.logits)
	})
	if err != nil {
		return nil, err
	}
	rows := make([]*model.Row, B)
	for r, pr := range prompts {
		rs := model.NewRow(len(pr), cfg.Seed, firstRow+r)
		rs.Pick(ch, logits[r*V:(r+1)*V], cfg, eos, e.cfg.Context)
		rows[r] = rs
	}
	var active []int
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
		n := len(active)
		ids, pos, rowOf := make([]int32, n), make([]int32, n), make([]int32, n)
		for i, r := range active {
			ids[i], pos[i], rowOf[i] = int32(rows[r].Last), int32(rows[r].Pos), int32(r)
		}
		step := logits[:n*V]
		err := e.dev.do(func(q *queue) {
			a := &e.decode
			a.shape(q, e, n, 1, n)
			a.loadInts(q, ids, pos, make([]int32, n), rowOf)
			e.forward(q, a, modeDecode)
			toHost(q, step, a.logits)
		})
		if err != nil {
			return nil, err
		}
		for i, r := range active {
			rows[r].Pos++
			rows[r].Pick(ch, step[i*V:(i+1)*V], cfg, eos, e.cfg.Context)
		}
	}
	out := make([]core.Completion, B)
	for r, rs := range rows {
		out[r] = rs.Out
	}
	return out, nil
}

// reserveCache makes room for rows rows of keys and values in every layer:
// [rows, Context, 3d], the layout of a pass's qkv.
func (e *Engine) reserveCache(q *queue, rows int) {
	if q.err != nil || rows <= e.cacheRows {
		return
	}
	for _, p := range e.cache {
		memFree(p)
	}
	e.cache, e.cacheRows = nil, 0
	c := e.cfg
	size := int64(rows) * int64(c.Context) * int64(3*c.DModel) * 4
	for l := 0; l < c.NLayer; l++ {
		p, err := memAlloc(size)
		if err != nil {
			q.fail(fmt.Errorf("cuda: allocating %d MiB of KV cache: %w", size>>20, err))
			return
		}
		e.cache = append(e.cache, p)
	}
	e.cacheRows = rows
}
