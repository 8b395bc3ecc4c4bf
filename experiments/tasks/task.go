package tasks

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/rewards"
)

// PCG streams of one seed: each part of a task draws from its own stream,
// so changing the train size never changes the eval split and vice versa.
const (
	streamEval   = 1
	streamTrain  = 2
	streamCorpus = 3
	streamSplit  = 4 // JSONL train/eval split
	streamDev    = 5
)

// Option changes how a task is built.
type Option func(*config) error

type config struct {
	train, eval, corpus int
	sizesSet, corpusSet bool
	mix                 [3]float64 // good, mediocre, bad
	digits              int
	digitsSet           bool
	margin              float64
	evalFraction        float64
	evalFractionSet     bool
	dev                 int
	kinds               []string
	levels              map[string]int
}

// WithSizes sets the number of train and eval examples.
func WithSizes(train, eval int) Option {
	return func(c *config) error {
		if train < 1 || eval < 1 {
			return fmt.Errorf("sizes: train and eval must be ≥ 1, got %d and %d", train, eval)
		}
		c.train, c.eval, c.sizesSet = train, eval, true
		return nil
	}
}

// WithCorpusSize sets the number of pre-training documents.
func WithCorpusSize(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("corpus size must be ≥ 1, got %d", n)
		}
		c.corpus, c.corpusSet = n, true
		return nil
	}
}

// WithCorpusMix sets the proportions of good, mediocre and bad responses
// in the pre-training corpus (normalised; default 0.4 / 0.3 / 0.3).
func WithCorpusMix(good, mediocre, bad float64) Option {
	return func(c *config) error {
		for _, x := range []float64{good, mediocre, bad} {
			if x < 0 || math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("corpus mix: proportions must be finite and ≥ 0, got %v/%v/%v", good, mediocre, bad)
			}
		}
		s := good + mediocre + bad
		if s <= 0 {
			return fmt.Errorf("corpus mix: proportions sum to 0")
		}
		c.mix = [3]float64{good / s, mediocre / s, bad / s}
		return nil
	}
}

// WithDigits sets the maximum number of digits of arith operands (1–4;
// default 2). Each operand first draws its digit count uniformly.
func WithDigits(d int) Option {
	return func(c *config) error {
		if d < 1 || d > 4 {
			return fmt.Errorf("digits must be 1–4, got %d", d)
		}
		c.digits, c.digitsSet = d, true
		return nil
	}
}

// WithTieMargin sets the judge's tie margin (default rewards.DefaultTieMargin).
func WithTieMargin(m float64) Option {
	return func(c *config) error {
		if m < 0 || math.IsNaN(m) || math.IsInf(m, 0) {
			return fmt.Errorf("tie margin must be finite and ≥ 0, got %v", m)
		}
		c.margin = m
		return nil
	}
}

// WithEvalFraction sets the eval share of a JSONL dataset (Open only;
// default 0.1).
func WithEvalFraction(f float64) Option {
	return func(c *config) error {
		if !(f > 0 && f < 1) {
			return fmt.Errorf("eval fraction must be in (0, 1), got %v", f)
		}
		c.evalFraction, c.evalFractionSet = f, true
		return nil
	}
}

// WithDevSize carves a dev split of n examples out of the train split's
// prompt space (default 0: none): dev prompts are unique and appear in
// neither train nor eval, so hyper-parameters chosen on dev never see the
// test split. JSONL datasets take it as a number of examples too.
func WithDevSize(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("dev size must be ≥ 0, got %d", n)
		}
		c.dev = n
		return nil
	}
}

// WithKinds selects the kinds of the skills task (default: all, see
// Kinds).
func WithKinds(names ...string) Option {
	return func(c *config) error {
		if len(names) == 0 {
			return fmt.Errorf("kinds: the list is empty")
		}
		c.kinds = append([]string(nil), names...)
		return nil
	}
}

// WithLevels sets the difficulty level of skills kinds (kind name →
// 1..Kind.Levels); unset kinds use their Default.
func WithLevels(levels map[string]int) Option {
	return func(c *config) error {
		c.levels = map[string]int{}
		for k, v := range levels {
			c.levels[k] = v
		}
		return nil
	}
}

func newConfig(opts []Option) (config, error) {
	c := config{mix: [3]float64{0.4, 0.3, 0.3}, digits: 2, margin: rewards.DefaultTieMargin, evalFraction: 0.1}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// sample is one generated request with answers of three qualities.
type sample struct {
	request string
	meta    map[string]any
	good    string // the best answer the rubric knows: correct and concise
	fair    string // acceptable but beatable: padded, generic, unpolished
	bad     string // wrong, evasive, irrelevant, or complying with harm
}

// generator draws one sample.
type generator func(r *rand.Rand, c *config) sample

// task is a built core.Task.
type task struct {
	name             string
	train, eval, dev []core.Example
	corpus           []string
	judge, scorer    core.Reward
	// dense is the partial-credit scorer (nil: the task has none).
	dense core.Reward
	// kinds and levels: the skills task's selection (nil otherwise).
	kinds  []string
	levels map[string]int
}

func (t *task) Name() string { return t.name }

// Train, Eval and Corpus return fresh slices; the examples' Meta maps are
// shared and must not be modified.
func (t *task) Train() []core.Example { return append([]core.Example(nil), t.train...) }
func (t *task) Eval() []core.Example  { return append([]core.Example(nil), t.eval...) }
func (t *task) Corpus() []string      { return append([]string(nil), t.corpus...) }
func (t *task) Dev() []core.Example   { return append([]core.Example(nil), t.dev...) }
func (t *task) Judge() core.Reward    { return t.judge }
func (t *task) Scorer() core.Reward   { return t.scorer }

// DenseScorer returns the task's partial-credit scorer, or nil.
func (t *task) DenseScorer() core.Reward { return t.dense }

// Levels returns the skills task's level per kind (nil for other tasks).
func (t *task) Levels() map[string]int {
	if t.levels == nil {
		return nil
	}
	out := make(map[string]int, len(t.levels))
	for k, v := range t.levels {
		out[k] = v
	}
	return out
}

// Dever is implemented by tasks with a dev split (carved from train's
// prompt space; empty unless asked for with WithDevSize).
type Dever interface {
	Dev() []core.Example
}

// DenseScorer is implemented by tasks whose rubric can give partial
// credit; DenseScorer returns nil when this one cannot.
type DenseScorer interface {
	DenseScorer() core.Reward
}

// Leveled is implemented by the skills task: the difficulty level of each
// of its kinds.
type Leveled interface {
	Levels() map[string]int
}

// build runs a generator: eval first (unique prompts), then train (any
// prompt not in eval), then the corpus (also avoiding eval prompts).
// chosenFair is the probability that chosen is the fair answer rather than
// the good one.
func build(name string, gen generator, c config, seed uint64, chosenFair float64, scorer core.Reward) (*task, error) {
	inEval := make(map[string]bool, c.eval+c.dev)
	t := &task{name: name}
	// heldOut draws want examples whose prompts are distinct and not yet
	// held out. The bound on attempts turns an exhausted prompt space into
	// an error instead of a hang.
	heldOut := func(r *rand.Rand, want int, split string) ([]core.Example, error) {
		var out []core.Example
		for tries := 0; len(out) < want; tries++ {
			if tries > 50*want+1000 {
				return nil, fmt.Errorf("task %s: only %d distinct %s prompts found, %d asked (lower the %s size)", name, len(out), split, want, split)
			}
			s := gen(r, &c)
			p := Prompt(s.request)
			if inEval[p] {
				continue
			}
			inEval[p] = true
			out = append(out, example(r, s, chosenFair))
		}
		return out, nil
	}
	var err error
	if t.eval, err = heldOut(rand.New(rand.NewPCG(seed, streamEval)), c.eval, "eval"); err != nil {
		return nil, err
	}
	// The dev split has its own stream, so asking for one leaves eval
	// unchanged; train then skips dev prompts too.
	if t.dev, err = heldOut(rand.New(rand.NewPCG(seed, streamDev)), c.dev, "dev"); err != nil {
		return nil, err
	}
	trainRNG := rand.New(rand.NewPCG(seed, streamTrain))
	for tries := 0; len(t.train) < c.train; tries++ {
		if tries > 50*c.train+1000 {
			return nil, fmt.Errorf("task %s: the eval split leaves too few prompts for training", name)
		}
		s := gen(trainRNG, &c)
		if inEval[Prompt(s.request)] {
			continue
		}
		t.train = append(t.train, example(trainRNG, s, chosenFair))
	}
	corpusRNG := rand.New(rand.NewPCG(seed, streamCorpus))
	for tries := 0; len(t.corpus) < c.corpus; tries++ {
		if tries > 50*c.corpus+1000 {
			return nil, fmt.Errorf("task %s: the eval split leaves too few prompts for the corpus", name)
		}
		s := gen(corpusRNG, &c)
		p := Prompt(s.request)
		if inEval[p] {
			continue
		}
		t.corpus = append(t.corpus, p+answer(c.corpusAnswer(corpusRNG, s)))
	}
	judge, err := rewards.NewJudge(scorer, c.margin)
	if err != nil {
		return nil, err
	}
	t.judge, t.scorer = judge, scorer
	return t, nil
}

// denseFor is the partial-credit version of a built-in task's rubric (nil
// for hh-harmless, whose rubric grades refusals, not answers).
func denseFor(name string) core.Reward {
	switch name {
	case "arith":
		return rewards.PartialAnswerRubric(rewards.CheckNumbers)
	case "hh-helpful":
		return rewards.PartialAnswerRubric("")
	}
	return nil
}

// corpusAnswer draws the answer a corpus document shows: good, fair or
// bad in the proportions of the corpus mix.
func (c *config) corpusAnswer(r *rand.Rand, s sample) string {
	u := r.Float64()
	switch {
	case u < c.mix[0]:
		return s.good
	case u < c.mix[0]+c.mix[1]:
		return s.fair
	}
	return s.bad
}

func example(r *rand.Rand, s sample, chosenFair float64) core.Example {
	chosen := s.good
	if r.Float64() < chosenFair {
		chosen = s.fair
	}
	return core.Example{Prompt: Prompt(s.request), Chosen: answer(chosen), Rejected: answer(s.bad), Meta: s.meta}
}

// pick returns a uniformly drawn element.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }
