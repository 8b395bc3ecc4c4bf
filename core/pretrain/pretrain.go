package pretrain

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/tokenizer"
)

// Config describes one pre-training run.
type Config struct {
	Model model.Config
	Steps int
	Batch int
	// Seq is the graph's sequence length (≤ Model.Context); longer
	// documents are cut into windows.
	Seq   int
	Optim optim.Config
	Seed  uint64
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	switch {
	case c.Steps <= 0:
		return fmt.Errorf("steps must be positive, got %d", c.Steps)
	case c.Batch <= 0:
		return fmt.Errorf("batch must be positive, got %d", c.Batch)
	case c.Seq < 2 || c.Seq > c.Model.Context:
		return fmt.Errorf("seq must be in [2, %d], got %d", c.Model.Context, c.Seq)
	}
	return c.Optim.Validate()
}

// Progress is reported after every step.
type Progress struct {
	Step     int
	Loss     float64 // mean next-token cross-entropy (nats/token)
	GradNorm float64
	LR       float64
	Tokens   int // scored tokens this step
}

// Data yields training sequences.
type Data interface {
	// Next returns n sequences, each starting with BOS and at most seq
	// tokens long, drawn with rng.
	Next(rng *rand.Rand, n, seq int) [][]int
}

// Docs are short documents, each [BOS] + bytes + [EOS]; one longer than
// seq contributes a random window.
type Docs []string

// Next implements Data.
func (d Docs) Next(rng *rand.Rand, n, seq int) [][]int {
	tok := tokenizer.Byte{}
	out := make([][]int, n)
	for i := range out {
		ids := append([]int{tokenizer.BOS}, tok.Encode(d[rng.IntN(len(d))])...)
		ids = append(ids, tokenizer.EOS)
		if len(ids) > seq {
			s := rng.IntN(len(ids) - seq + 1)
			ids = append([]int{tokenizer.BOS}, ids[s+1:s+seq]...)
		}
		out[i] = ids
	}
	return out
}

// Packed are short documents packed into full sequences: each sequence is
// random documents, each [BOS] + bytes + [EOS], back to back until the
// next would not fit (a document longer than seq contributes a random
// window on its own). With documents of about half the context, a step
// sees twice the text of Docs for the same compute; later documents in a
// sequence can attend to earlier ones, as in GPT-2's own training.
type Packed []string

// Next implements Data.
func (d Packed) Next(rng *rand.Rand, n, seq int) [][]int {
	out := make([][]int, n)
	for i := range out {
		var row []int
		for {
			doc := Docs{d[rng.IntN(len(d))]}.Next(rng, 1, seq)[0]
			if len(row) > 0 && len(row)+len(doc) > seq {
				break
			}
			row = append(row, doc...)
			if len(row) >= seq {
				break
			}
		}
		out[i] = row
	}
	return out
}

// Stream is one long text; each sequence is BOS plus a random window.
type Stream string

// Next implements Data.
func (s Stream) Next(rng *rand.Rand, n, seq int) [][]int {
	ids := tokenizer.Byte{}.Encode(string(s))
	out := make([][]int, n)
	w := min(seq-1, len(ids))
	for i := range out {
		start := rng.IntN(len(ids) - w + 1)
		out[i] = append([]int{tokenizer.BOS}, ids[start:start+w]...)
	}
	return out
}

// Run trains a fresh model initialised from cfg.Seed (or continues from
// init when it is non-nil) on the CPU engine and returns its parameters.
func Run(ctx context.Context, cfg Config, data Data, init *model.Params, report func(Progress)) (*model.Params, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := init
	if p == nil {
		var err error
		if p, err = model.Init(cfg.Model, cfg.Seed); err != nil {
			return nil, err
		}
	}
	eng, err := model.NewCPU(p, model.CPUOptions{Optim: cfg.Optim, Seq: cfg.Seq})
	if err != nil {
		return nil, err
	}
	return p, RunEngine(ctx, cfg, data, eng, report)
}

// RunOn trains a fresh model initialised from cfg.Seed on the named engine
// ("" or "cpu": the CPU engine on graphs of cfg.Seq positions, as Run)
// and returns the engine; model.ParamsOf gives its weights.
func RunOn(ctx context.Context, device string, cfg Config, data Data, report func(Progress)) (core.Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p, err := model.Init(cfg.Model, cfg.Seed)
	if err != nil {
		return nil, err
	}
	var eng core.Engine
	if device == "" || device == "cpu" {
		eng, err = model.NewCPU(p, model.CPUOptions{Optim: cfg.Optim, Seq: cfg.Seq})
	} else {
		eng, err = model.NewEngine(device, p, cfg.Optim)
	}
	if err != nil {
		return nil, err
	}
	return eng, RunEngine(ctx, cfg, data, eng, report)
}

// RunEngine trains the model of eng (built with cfg.Optim) for cfg.Steps
// steps of next-token prediction on batches of cfg.Batch sequences of at
// most cfg.Seq tokens.
func RunEngine(ctx context.Context, cfg Config, data Data, eng core.Engine, report func(Progress)) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7072657472)) // "pretr"
	for step := 1; step <= cfg.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := data.Next(rng, cfg.Batch, cfg.Seq)
		seqs := make([]core.Sequence, len(batch))
		scored := 0
		for i, ids := range batch {
			seqs[i] = core.Sequence{Tokens: ids, Start: 1}
			scored += len(ids) - 1
		}
		fwd, err := eng.LogProbs(seqs, core.ForwardOptions{})
		if err != nil {
			return fmt.Errorf("pretrain: step %d: %w", step, err)
		}
		loss, dlogp := MeanNLL(fwd.LogP, scored)
		if err := eng.Backward(dlogp, nil); err != nil {
			return fmt.Errorf("pretrain: step %d: %w", step, err)
		}
		st, err := eng.Step()
		if err != nil {
			return fmt.Errorf("pretrain: step %d: %w", step, err)
		}
		if report != nil {
			report(Progress{Step: step, Loss: loss, GradNorm: st.GradNorm, LR: st.LR, Tokens: scored})
		}
	}
	return nil
}

// MeanNLL is −Σ logp / n over per-sequence log-probs, with its gradient
// dL/dlogp (−1/n everywhere).
func MeanNLL(logp [][]float64, n int) (float64, [][]float64) {
	grad := make([][]float64, len(logp))
	if n == 0 {
		for i, lp := range logp {
			grad[i] = make([]float64, len(lp))
		}
		return 0, grad
	}
	var s float64
	inv := 1 / float64(n)
	for i, lp := range logp {
		grad[i] = make([]float64, len(lp))
		for j, v := range lp {
			s += v
			grad[i][j] = -inv
		}
	}
	return -s * inv, grad
}

// Perplexity is exp(loss), for humans.
func Perplexity(loss float64) float64 { return math.Exp(loss) }
