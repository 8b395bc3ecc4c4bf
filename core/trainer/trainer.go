package trainer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/tokenizer"
)

// Config is the training part of a trial.
type Config struct {
	Steps int `toml:"steps"`
	// Prompts per step (the batch, counted in groups).
	Prompts int                `toml:"prompts"`
	Sample  model.SampleConfig `toml:"sample"`
	Optim   optim.Config       `toml:"optim"`
	Seed    uint64             `toml:"seed"`
	// Truncate is the explicit left-truncation policy for prompts that
	// leave fewer than Sample.MaxNew tokens of room (and for references
	// that overflow the context). Without it such an example is an error:
	// the sweep rejects it at validation.
	Truncate bool `toml:"truncate"`
	// Tempered computes the log-probs of sampled batches (current,
	// behaviour and reference) at the rollout temperature, log softmax(z/T),
	// as TRL and verl do; offline algorithms, and greedy rollouts, are
	// unaffected.
	Tempered bool `toml:"tempered"`
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Steps < 0:
		return fmt.Errorf("steps must be ≥ 0, got %d", c.Steps)
	case c.Prompts <= 0:
		return fmt.Errorf("prompts must be positive, got %d", c.Prompts)
	}
	if err := c.Sample.Validate(); err != nil {
		return err
	}
	return c.Optim.Validate()
}

// StepLog is what one step did; the runner writes it to metrics.jsonl.
type StepLog struct {
	Step       int                `json:"step"`
	Loss       float64            `json:"loss"`
	Components map[string]float64 `json:"components,omitempty"`
	// Rewards of this step's samples (absent for offline algorithms).
	RewardMean *float64 `json:"reward_mean,omitempty"`
	RewardStd  *float64 `json:"reward_std,omitempty"`
	// KL is the mean per-sequence k1 estimate of KL(π_old ‖ π_start) on
	// the samples (on the first sample of each prompt when the algorithm
	// has no reference model); Entropy the mean per-token −log π_old of
	// sampled tokens.
	KL         *float64 `json:"kl,omitempty"`
	Entropy    *float64 `json:"entropy,omitempty"`
	LengthMean *float64 `json:"length_mean,omitempty"`
	// Shares of this step's groups whose G samples all got the same
	// judge reward (ZeroVar: no signal for group-normalised methods), all
	// lost to the reference, or all beat it. Measured with the task's
	// ternary judge (SetJudge) whatever the training reward.
	ZeroVar *float64 `json:"zero_variance,omitempty"`
	AllLose *float64 `json:"all_lose,omitempty"`
	AllWin  *float64 `json:"all_win,omitempty"`
	// Rounds and Kept describe dynamic sampling (an algorithm with a
	// group filter): the rollout rounds this step drew and the share of
	// the batch's groups that passed the filter (absent without one).
	Rounds   int      `json:"rollout_rounds,omitempty"`
	Kept     *float64 `json:"groups_kept,omitempty"`
	GradNorm float64  `json:"grad_norm"`
	LR       float64  `json:"lr"`
	// Model holds the engine's own loss terms and diagnostics (a mixture
	// of experts' load-balancing loss and expert utilisation; absent for
	// dense models), means over the epochs.
	Model map[string]float64 `json:"model,omitempty"`
	// Seconds spent in each phase.
	Timing Timing `json:"timing"`
	// Compute counts the step's work, for compute-matched comparisons.
	Compute Compute `json:"compute"`
}

// Compute is one step's work: completions sampled and the tokens they
// hold, and the completion tokens the policy scored with gradients
// (samples, references and pairs alike, once per epoch).
type Compute struct {
	Samples   int `json:"samples"`
	Generated int `json:"generated_tokens"`
	Scored    int `json:"scored_tokens"`
}

// Timing splits a step's wall time.
type Timing struct {
	Rollout  float64 `json:"rollout"`
	Reward   float64 `json:"reward"`
	Score    float64 `json:"score"` // reference-policy log-probs
	Backward float64 `json:"loss_backward"`
	Update   float64 `json:"update"`
}

// Trainer aligns a policy with one algorithm on one task.
type Trainer struct {
	cfg    Config
	alg    core.Algorithm
	needs  core.Needs
	train  []core.Example
	reward core.Reward
	// judge scores samples for the zero-variance diagnostics when it is
	// not the training reward itself.
	judge core.Reward
	// temp is the temperature of the loss's log-probs (1: untempered).
	temp float64
	// Policy is the engine trained; Start is a frozen snapshot of its
	// initial weights.
	Policy, Start core.Engine
	tok           tokenizer.Tokenizer

	// the prepared step: its batch and gradient twin, and the scored
	// sequences with the Seq (and gradient) each one fills
	batch, grad *core.Batch
	seqs        []core.Sequence
	slots       []slot
	lastLoss    core.LossValue
	lastFwd     *core.Forward
}

// slot ties a scored sequence to the Seq (and its gradient) it fills.
type slot struct {
	seq, grad *core.Seq
}

// New prepares a trainer on the CPU engine. policy is trained in place; a
// value head is added when the algorithm needs one.
func New(cfg Config, alg core.Algorithm, train []core.Example, reward core.Reward, policy *model.Params) (*Trainer, error) {
	return NewOn("", cfg, alg, train, reward, policy)
}

// NewOn is New on the named engine ("" or "cpu": the CPU; see
// model.Engines).
func NewOn(device string, cfg Config, alg core.Algorithm, train []core.Example, reward core.Reward, policy *model.Params) (*Trainer, error) {
	return newOn(device, model.CPUOptions{}, cfg, alg, train, reward, policy)
}

// newOn is NewOn with the CPU engine's options (tests fix its graph length
// or ask for float64 graphs).
func newOn(device string, opts model.CPUOptions, cfg Config, alg core.Algorithm, train []core.Example, reward core.Reward, policy *model.Params) (*Trainer, error) {
	if alg.Needs().Value && policy.VW == nil {
		policy = policy.WithValueHead()
	}
	var eng core.Engine
	var err error
	if device == "" || device == "cpu" {
		opts.Optim = cfg.Optim
		eng, err = model.NewCPU(policy, opts)
	} else {
		eng, err = model.NewEngine(device, policy, cfg.Optim)
	}
	if err != nil {
		return nil, err
	}
	return NewWithEngine(cfg, alg, train, reward, eng)
}

// NewWithEngine prepares a trainer for a policy engine built with
// cfg.Optim (and a value head when the algorithm needs one).
func NewWithEngine(cfg Config, alg core.Algorithm, train []core.Example, reward core.Reward, eng core.Engine) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(train) == 0 {
		return nil, fmt.Errorf("trainer: no training examples")
	}
	n := alg.Needs()
	if n.Epochs < 1 {
		return nil, fmt.Errorf("trainer: %s needs %d epochs", alg.Name(), n.Epochs)
	}
	if n.Samples > 0 && reward == nil {
		return nil, fmt.Errorf("trainer: %s samples completions but no reward is set", alg.Name())
	}
	if n.Keep != nil && n.Samples == 0 {
		return nil, fmt.Errorf("trainer: %s filters groups but samples none", alg.Name())
	}
	if n.Keep != nil && n.MaxRounds < 1 {
		return nil, fmt.Errorf("trainer: %s filters groups with MaxRounds = %d, want ≥ 1", alg.Name(), n.MaxRounds)
	}
	if n.Value && !eng.Info().ValueHead {
		return nil, fmt.Errorf("trainer: %s needs a value head and the policy has none", alg.Name())
	}
	if l, ok := alg.(core.LengthLimited); ok && n.Samples > 0 {
		if err := l.SetMaxNewTokens(cfg.Sample.MaxNew); err != nil {
			return nil, fmt.Errorf("trainer: %w", err)
		}
	}
	t := &Trainer{cfg: cfg, alg: alg, needs: n, train: train, reward: reward, Policy: eng, temp: 1, tok: tokenizer.Byte{}}
	if cfg.Tempered && n.Samples > 0 && cfg.Sample.Temperature > 0 {
		t.temp = cfg.Sample.Temperature
		t.cfg.Sample.TemperedLogProbs = true
	}
	if cfg.Prompts*(n.Samples+b2i(n.Reference)+2*b2i(n.Pairs)) == 0 {
		return nil, fmt.Errorf("trainer: %s declares no sequences to train on", alg.Name())
	}
	// Rows decoded together: rounding depends on it, so it is fixed.
	t.cfg.Sample.Block = min(cfg.Prompts*n.Samples, 64)
	var err error
	if t.Start, err = eng.Snapshot(); err != nil {
		return nil, err
	}
	return t, nil
}

// SetTokenizer sets the model's tokenizer (grao's byte tokenizer by
// default); call it before the first Step.
func (t *Trainer) SetTokenizer(tok tokenizer.Tokenizer) error {
	if v := t.Policy.Info().VocabSize; tok.VocabSize() > v {
		return fmt.Errorf("trainer: tokenizer of %d tokens for a model of %d", tok.VocabSize(), v)
	}
	t.tok = tok
	return nil
}

// SetJudge sets the reward the zero-variance diagnostics use (the task's
// ternary judge); without one they use the training reward.
func (t *Trainer) SetJudge(j core.Reward) { t.judge = j }

// Temperature is the temperature of the loss's log-probs (1 when
// untempered).
func (t *Trainer) Temperature() float64 { return t.temp }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Step runs training step number step (1-based).
func (t *Trainer) Step(ctx context.Context, step int) (StepLog, error) {
	log, err := t.prepare(ctx, step)
	if err != nil {
		return log, err
	}
	for e := 0; e < t.needs.Epochs; e++ {
		if err := ctx.Err(); err != nil {
			return log, err
		}
		t0 := time.Now()
		if err := t.run(step); err != nil {
			return log, err
		}
		log.Timing.Backward += time.Since(t0).Seconds()
		t0 = time.Now()
		st, err := t.Policy.Step()
		if err != nil {
			return log, fmt.Errorf("trainer: step %d: %w", step, err)
		}
		log.Timing.Update += time.Since(t0).Seconds()
		// Diagnostics are means over the epochs: with several updates per
		// rollout batch, epoch 0 alone sees ratios of exactly 1 and never
		// clips, which is not what the step did.
		log.Loss += t.lastLoss.Loss / float64(t.needs.Epochs)
		if log.Components == nil && len(t.lastLoss.Components) > 0 {
			log.Components = make(map[string]float64, len(t.lastLoss.Components))
		}
		for k, v := range t.lastLoss.Components {
			log.Components[k] += v / float64(t.needs.Epochs)
		}
		for _, m := range []map[string]float64{t.lastFwd.Losses, t.lastFwd.Metrics} {
			for k, v := range m {
				if log.Model == nil {
					log.Model = map[string]float64{}
				}
				log.Model[k] += v / float64(t.needs.Epochs)
			}
		}
		log.GradNorm += st.GradNorm / float64(t.needs.Epochs)
		log.LR = st.LR
	}
	return log, nil
}

// run is one forward pass of the prepared batch, the algorithm's loss on
// its log-probs (and values), and the backward pass of its gradient.
func (t *Trainer) run(step int) error {
	fwd, err := t.Policy.LogProbs(t.seqs, core.ForwardOptions{Temperature: t.temp})
	if err != nil {
		return fmt.Errorf("trainer: step %d: %w", step, err)
	}
	t.lastFwd = fwd
	dlogp := make([][]float64, len(t.slots))
	var dvalues [][]float64
	if t.needs.Value {
		dvalues = make([][]float64, len(t.slots))
	}
	for k, s := range t.slots {
		copy(s.seq.LogP, fwd.LogP[k])
		clear(s.grad.LogP)
		dlogp[k] = s.grad.LogP
		if t.needs.Value {
			copy(s.seq.Values, fwd.Values[k])
			if s.seq.OldValues == nil { // first epoch: values at rollout time
				s.seq.OldValues = append([]float64(nil), s.seq.Values...)
			}
			clear(s.grad.Values)
			dvalues[k] = s.grad.Values
		}
	}
	lv, err := t.alg.Loss(t.batch, t.grad)
	if err != nil {
		_ = t.Policy.Backward(nil, nil) // discard the pending pass
		return fmt.Errorf("trainer: step %d: %s loss: %w", step, t.alg.Name(), err)
	}
	t.lastLoss = lv
	if err := t.Policy.Backward(dlogp, dvalues); err != nil {
		return fmt.Errorf("trainer: step %d: %w", step, err)
	}
	return nil
}

// prepare draws the step's prompts, rolls out and scores when the algorithm
// needs samples, computes reference-policy log-probs, and loads the batch
// into the graph.
func (t *Trainer) prepare(ctx context.Context, step int) (StepLog, error) {
	log := StepLog{Step: step}
	rng := rand.New(rand.NewPCG(t.cfg.Seed, uint64(step)))
	exs := make([]core.Example, t.cfg.Prompts)
	for i := range exs {
		exs[i] = t.train[rng.IntN(len(t.train))]
	}
	ctxLen := t.Policy.Info().Context
	batch := &core.Batch{Groups: make([]core.Group, len(exs))}
	grad := &core.Batch{Groups: make([]core.Group, len(exs))}
	prompts := make([][]int, len(exs))
	for i, ex := range exs {
		var err error
		if prompts[i], err = t.promptIDs(ex.Prompt); err != nil {
			return log, fmt.Errorf("trainer: step %d: train prompt %q: %w", step, ex.Prompt, err)
		}
	}
	// Every scored sequence gets a graph row; its Seq and gradient twin
	// are filled once the row's span is known.
	var seqs []core.Sequence
	t.slots = t.slots[:0]
	add := func(pi int, s, g *core.Seq, completion []int) {
		s.Tokens = completion
		seqs = append(seqs, core.Sequence{Tokens: append(append([]int(nil), prompts[pi]...), completion...), Start: len(prompts[pi])})
		t.slots = append(t.slots, slot{seq: s, grad: g})
	}
	var overflow error
	answer := func(pi int, text string) []int {
		ids := append(t.tok.Encode(text), t.tok.Specials().EOS) // answers start with their space
		if room := ctxLen - len(prompts[pi]); len(ids) > room {
			if !t.cfg.Truncate && overflow == nil {
				overflow = fmt.Errorf("trainer: step %d: answer %q of %d tokens (with EOS) does not fit after its prompt of %d in a context of %d",
					step, text, len(ids), len(prompts[pi]), ctxLen)
			}
			ids = ids[:max(room, 1)]
		}
		return ids
	}
	nSamples := 0
	if G := t.needs.Samples; G > 0 {
		if err := t.rollout(ctx, rng, exs, prompts, batch, grad, add, &log); err != nil {
			return log, err
		}
		nSamples = len(exs) * G
	}
	for i, ex := range exs {
		g, gg := &batch.Groups[i], &grad.Groups[i]
		if t.needs.Reference {
			g.Reference, gg.Reference = &core.Seq{}, &core.Seq{}
			add(i, g.Reference, gg.Reference, answer(i, ex.Chosen))
		}
		if t.needs.Pairs {
			g.Chosen, gg.Chosen = &core.Seq{}, &core.Seq{}
			g.Rejected, gg.Rejected = &core.Seq{}, &core.Seq{}
			add(i, g.Chosen, gg.Chosen, answer(i, ex.Chosen))
			add(i, g.Rejected, gg.Rejected, answer(i, ex.Rejected))
		}
	}
	if overflow != nil {
		return log, overflow
	}
	// Reference-policy log-probs: for the algorithm when it needs them,
	// and for the KL we log. The log only needs an estimate of the mean,
	// so an algorithm without a reference model scores the first sample of
	// each prompt, not all G (the samples of a prompt are exchangeable):
	// scoring all of them took a third of a GRPO step.
	t0 := time.Now()
	var kls []float64
	for k, sl := range t.slots {
		isSample := k < nSamples
		if !t.needs.RefModel && (!isSample || k%t.needs.Samples != 0) {
			continue
		}
		f, err := t.Start.Score(seqs[k:k+1], core.ForwardOptions{Temperature: t.temp})
		if err != nil {
			return log, err
		}
		lp := f.LogP[0]
		sl.seq.RefLogP = lp
		if isSample {
			var kl float64
			for j := range lp {
				kl += sl.seq.OldLogP[j] - lp[j]
			}
			kls = append(kls, kl)
		}
	}
	if len(kls) > 0 {
		m, _ := meanStd(kls)
		log.KL = &m
	}
	log.Timing.Score = time.Since(t0).Seconds()
	for k := range t.slots {
		sl := &t.slots[k]
		n := len(seqs[k].Tokens) - seqs[k].Start
		log.Compute.Scored += n * t.needs.Epochs
		sl.seq.LogP, sl.grad.LogP = make([]float64, n), make([]float64, n)
		if t.needs.Value {
			sl.seq.Values, sl.grad.Values = make([]float64, n), make([]float64, n)
		}
	}
	t.seqs = seqs
	t.batch, t.grad = batch, grad
	return log, nil
}

// groupShares are the shares of consecutive groups of g rewards that are
// all equal, all negative and all positive.
func groupShares(rs []float64, g int) (zeroVar, allLose, allWin float64) {
	n := len(rs) / g
	for i := range n {
		grp := rs[i*g : (i+1)*g]
		same, lose, win := true, true, true
		for _, r := range grp {
			same = same && r == grp[0]
			lose = lose && r < 0
			win = win && r > 0
		}
		zeroVar += b2f(same)
		allLose += b2f(lose)
		allWin += b2f(win)
	}
	return zeroVar / float64(n), allLose / float64(n), allWin / float64(n)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// promptIDs tokenises a prompt under the trainer's truncation policy.
func (t *Trainer) promptIDs(prompt string) ([]int, error) {
	ctx, maxNew := t.Policy.Info().Context, t.cfg.Sample.MaxNew
	if t.cfg.Truncate {
		ids, _ := tokenizer.TruncatePromptWith(t.tok, prompt, ctx, maxNew)
		return ids, nil
	}
	return tokenizer.FitPromptWith(t.tok, prompt, ctx, maxNew)
}

func meanStd(x []float64) (float64, float64) {
	if len(x) == 0 {
		return 0, 0
	}
	var m float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	var s float64
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return m, math.Sqrt(s / float64(len(x)))
}
