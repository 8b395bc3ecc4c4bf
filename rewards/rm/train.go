package rm

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/kernels/ops"
)

// Config describes one reward-model training run.
type Config struct {
	// Model is the architecture when training from scratch; ValueHead is
	// forced on. With an init model, its own config is used instead.
	Model model.Config
	Steps int
	// Batch is the number of (chosen, rejected) pairs per step; the graph
	// runs 2·Batch sequences.
	Batch int
	Optim optim.Config
	Seed  uint64
	// L2 is the λ of BTLoss's reward penalty (0: plain Bradley–Terry).
	L2 float64
	// EvalEvery evaluates held-out accuracy every N steps (0: only at the
	// end; the final evaluation always runs).
	EvalEvery int
}

// Validate names the first bad field. Model is checked by Train, since an
// init model replaces it.
func (c Config) Validate() error {
	switch {
	case c.Steps <= 0:
		return fmt.Errorf("steps must be positive, got %d", c.Steps)
	case c.Batch <= 0:
		return fmt.Errorf("batch must be positive, got %d", c.Batch)
	case !(c.L2 >= 0) || math.IsInf(c.L2, 1):
		return fmt.Errorf("l2 must be finite and ≥ 0, got %g", c.L2)
	case c.EvalEvery < 0:
		return fmt.Errorf("eval_every must be ≥ 0, got %d", c.EvalEvery)
	}
	return c.Optim.Validate()
}

// Eval is a held-out evaluation of a reward model on pairs.
type Eval struct {
	Pairs int
	// Accuracy is the share of pairs with r(chosen) > r(rejected); an
	// exact tie counts one half (so a constant model scores 0.5).
	Accuracy float64
	// Margin is the mean of r(chosen) − r(rejected).
	Margin float64
	// Loss is the mean Bradley–Terry loss −log σ(margin), without L2.
	Loss float64
}

// Progress is reported after every step; Eval is set on evaluation steps.
type Progress struct {
	Step     int
	Loss     float64 // BTLoss of the step's batch, L2 included
	Accuracy float64 // pairwise accuracy on the step's batch (before the update)
	Margin   float64 // mean r_c − r_r on the batch
	GradNorm float64
	LR       float64
	Eval     *Eval
}

// pair is an example encoded for training.
type pair struct{ chosen, rejected []int }

// encode turns examples into token pairs, counting truncated sequences.
func encode(exs []core.Example, context int) ([]pair, int) {
	out := make([]pair, len(exs))
	cut := 0
	for i, ex := range exs {
		c, tc := Tokens(ex.Prompt, ex.Chosen, context)
		r, tr := Tokens(ex.Prompt, ex.Rejected, context)
		out[i] = pair{c, r}
		if tc {
			cut++
		}
		if tr {
			cut++
		}
	}
	return out, cut
}

// Train fits a reward model on train pairs and evaluates it on eval pairs
// (every cfg.EvalEvery steps and at the end). It starts from init's trunk
// when init is non-nil (a pre-trained language model; a value head is
// added, zero-initialised, if it has none; init itself is not modified),
// else from model.Init(cfg.Model with a value head, cfg.Seed). Pairs are
// visited in epochs, each in a fresh order drawn from PCG(cfg.Seed); the
// result is bit-for-bit reproducible. On cancellation it returns the
// current weights with ctx's error.
func Train(ctx context.Context, cfg Config, train, eval []core.Example, init *model.Params, report func(Progress)) (*model.Params, Eval, error) {
	if err := cfg.Validate(); err != nil {
		return nil, Eval{}, err
	}
	if len(train) == 0 {
		return nil, Eval{}, fmt.Errorf("rm: no training pairs")
	}
	var p *model.Params
	if init != nil {
		p = init.WithValueHead()
	} else {
		mc := cfg.Model
		mc.ValueHead = true
		var err error
		if p, err = model.Init(mc, cfg.Seed); err != nil {
			return nil, Eval{}, err
		}
	}
	mc := p.Config
	pairs, _ := encode(train, mc.Context)
	evalPairs, _ := encode(eval, mc.Context)
	// The graph is as long as the longest training sequence, not the
	// context: short tasks (arith) then cost a fraction of a full window.
	seq := 2
	for _, pr := range pairs {
		seq = max(seq, len(pr.chosen), len(pr.rejected))
	}
	B := cfg.Batch
	gr, err := model.NewGraph(p, 2*B, seq, G.Float32)
	if err != nil {
		return nil, Eval{}, err
	}
	// pos[i] is the flat index into gr.Value of row i's EOS (rows 0..B−1
	// chosen, B..2B−1 rejected), set before each Run.
	pos := make([]int, 2*B)
	rc, rr := make([]float64, B), make([]float64, B)
	dc, dr := make([]float64, B), make([]float64, B)
	var batchAcc, batchMargin float64
	loss, err := ops.Loss("bradley-terry", func(in, grad [][]float64) float64 {
		v, g := in[0], grad[0]
		for i := 0; i < B; i++ {
			rc[i], rr[i] = v[pos[i]], v[pos[B+i]]
		}
		l := BTLoss(rc, rr, cfg.L2, dc, dr)
		for i := 0; i < B; i++ {
			g[pos[i]], g[pos[B+i]] = dc[i], dr[i]
		}
		batchAcc, batchMargin = pairStats(rc, rr)
		return l
	}, gr.Value)
	if err != nil {
		return nil, Eval{}, err
	}
	if err := gr.Compile(loss); err != nil {
		return nil, Eval{}, err
	}
	opt, err := optim.NewAdamW(cfg.Optim, model.OptimParams(p))
	if err != nil {
		return nil, Eval{}, err
	}
	sc, err := newScorer(p)
	if err != nil {
		return nil, Eval{}, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x726d)) // "rm"
	order := rng.Perm(len(pairs))
	next := 0
	var last *Eval // the evaluation of the final step, if it ran
	seqs := make([]model.Sequence, 2*B)
	for step := 1; step <= cfg.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return p, Eval{}, err
		}
		for i := 0; i < B; i++ {
			if next == len(order) {
				rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
				next = 0
			}
			pr := pairs[order[next]]
			next++
			// Start = len: nothing is scored as a next-token target, so
			// the unused LM log-probs cost no more than they must.
			seqs[i] = model.Sequence{Tokens: pr.chosen, Start: len(pr.chosen)}
			seqs[B+i] = model.Sequence{Tokens: pr.rejected, Start: len(pr.rejected)}
		}
		for i, s := range seqs {
			pos[i] = i*seq + len(s.Tokens) - 1
		}
		if _, err := gr.Load(seqs); err != nil {
			return p, Eval{}, err
		}
		if err := gr.Run(); err != nil {
			return p, Eval{}, fmt.Errorf("rm: step %d: %w", step, err)
		}
		grads, err := gr.Grads()
		if err != nil {
			return p, Eval{}, err
		}
		st, err := opt.Step(grads)
		if err != nil {
			return p, Eval{}, fmt.Errorf("rm: step %d: %w", step, err)
		}
		pg := Progress{Step: step, Loss: gr.LossValue(), Accuracy: batchAcc, Margin: batchMargin, GradNorm: st.GradNorm, LR: st.LR}
		if len(evalPairs) > 0 && (step == cfg.Steps || (cfg.EvalEvery > 0 && step%cfg.EvalEvery == 0)) {
			ev, err := evaluate(ctx, sc, evalPairs)
			if err != nil {
				return p, Eval{}, err
			}
			pg.Eval = &ev
			if step == cfg.Steps {
				last = &ev
			}
		}
		if report != nil {
			report(pg)
		}
	}
	if last != nil {
		return p, *last, nil
	}
	final, err := evaluate(ctx, sc, evalPairs)
	return p, final, err
}

// pairStats returns the accuracy (ties count ½) and mean margin.
func pairStats(rc, rr []float64) (acc, margin float64) {
	if len(rc) == 0 {
		return 0, 0
	}
	for i := range rc {
		m := rc[i] - rr[i]
		margin += m
		switch {
		case m > 0:
			acc++
		case m == 0:
			acc += 0.5
		}
	}
	n := float64(len(rc))
	return acc / n, margin / n
}

func evaluate(ctx context.Context, sc *scorer, pairs []pair) (Eval, error) {
	rc, rr := make([]float64, len(pairs)), make([]float64, len(pairs))
	for i, pr := range pairs {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return Eval{}, err
			}
		}
		var err error
		if rc[i], err = sc.reward(pr.chosen); err != nil {
			return Eval{}, err
		}
		if rr[i], err = sc.reward(pr.rejected); err != nil {
			return Eval{}, err
		}
	}
	acc, margin := pairStats(rc, rr)
	return Eval{Pairs: len(pairs), Accuracy: acc, Margin: margin, Loss: BTLoss(rc, rr, 0, nil, nil)}, nil
}

// Truncated counts the sequences (two per example) that Tokens had to cut
// to fit context.
func Truncated(examples []core.Example, context int) int {
	_, n := encode(examples, context)
	return n
}

// Evaluate measures p's pairwise accuracy on examples (prompt, chosen,
// rejected) with the scoring path Reward uses. p must have a value head.
func Evaluate(ctx context.Context, p *model.Params, examples []core.Example) (Eval, error) {
	sc, err := newScorer(p)
	if err != nil {
		return Eval{}, err
	}
	pairs, _ := encode(examples, p.Config.Context)
	return evaluate(ctx, sc, pairs)
}
