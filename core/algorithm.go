package core

// Needs declares what an algorithm's batches must contain; the trainer
// computes exactly that and nothing more.
type Needs struct {
	// Samples is G, the completions drawn per prompt from the current
	// policy (0: offline algorithm, no rollouts).
	Samples int
	// Reference asks for the reference answer y scored under π_θ.
	Reference bool
	// Pairs asks for the chosen and rejected answers scored under π_θ.
	Pairs bool
	// RefModel asks for log-probs under the frozen starting policy
	// (Seq.RefLogP) for every scored sequence.
	RefModel bool
	// OldLogP asks for behaviour log-probs of the samples (Seq.OldLogP).
	OldLogP bool
	// Value asks for the value head (Seq.Values, Seq.OldValues).
	Value bool
	// Epochs is μ, the optimiser updates per rollout batch (≥ 1).
	Epochs int
	// Keep, when set, is dynamic sampling (DAPO): after a group is rolled
	// out and scored, Keep sees its Rewards (and RefReward) and says
	// whether it enters the batch. The trainer replaces a rejected group
	// by one of a freshly drawn prompt, for at most MaxRounds rollout
	// rounds per step; then the first rejected groups fill the batch, so
	// its size never changes. Keep must not modify the group.
	Keep func(g *Group) bool
	// MaxRounds bounds the rollout rounds of one step when Keep is set
	// (≥ 1; 1 draws no replacements).
	MaxRounds int
}

// KeepVaried is a Keep that drops groups whose rewards are all equal: they
// carry no signal for group-relative advantages.
func KeepVaried(g *Group) bool {
	if len(g.Rewards) == 0 {
		return false
	}
	for _, r := range g.Rewards[1:] {
		if r != g.Rewards[0] {
			return true
		}
	}
	return false
}

// LengthLimited is implemented by an algorithm whose loss depends on the
// most tokens a sampled completion may have (a constant length
// denominator, a penalty on overlong answers). The trainer calls it once,
// before the first step, with the rollouts' max_new_tokens; an error
// (the algorithm's setting does not fit that limit) stops the trial.
type LengthLimited interface {
	SetMaxNewTokens(n int) error
}

// Seq is one scored sequence: per-token quantities over its completion
// tokens only (never prompt tokens); all slices have the same length.
type Seq struct {
	Tokens []int
	// LogP are log-probs under the current policy π_θ (differentiated).
	LogP []float64
	// OldLogP are log-probs under the behaviour policy that sampled it.
	OldLogP []float64
	// RefLogP are log-probs under the frozen starting policy.
	RefLogP []float64
	// Values are the value head's outputs (differentiated), OldValues the
	// values at rollout time.
	Values, OldValues []float64
}

// Group is everything about one prompt.
type Group struct {
	// Samples are the G completions o_1..o_G with their rewards R(o_i, y).
	Samples []Seq
	Rewards []float64
	// RefReward is the training reward of the reference answer itself
	// (set with Samples when Reference is needed; a judge gives R(y,y) = 0).
	RefReward *float64
	// Reference is the reference answer y (the dataset's chosen).
	Reference *Seq
	// Chosen and Rejected form a preference pair (DPO).
	Chosen, Rejected *Seq
}

// Batch is one update's worth of groups.
type Batch struct {
	Groups []Group
}

// LossValue is an algorithm's loss with its named components (for logging:
// GRAO's exploration/imitation/regulariser, PPO's policy/value, …).
type LossValue struct {
	Loss       float64
	Components map[string]float64
}

// Algorithm is an alignment method. Loss computes the loss of b and writes
// dLoss/dLogP (and dLoss/dValues) into grad, which mirrors b's shape with
// zeroed LogP and Values slices; it must not modify b.
type Algorithm interface {
	Name() string
	Needs() Needs
	Loss(b *Batch, grad *Batch) (LossValue, error)
	// Config returns the resolved parameters, for provenance.
	Config() any
}

// NewGrad returns the gradient twin of b that Algorithm.Loss writes into:
// the same shape, zeroed LogP (and Values where b has them), the same
// Tokens and Rewards, nothing else.
func NewGrad(b *Batch) *Batch {
	g := &Batch{Groups: make([]Group, len(b.Groups))}
	twin := func(s *Seq) *Seq {
		if s == nil {
			return nil
		}
		t := &Seq{Tokens: s.Tokens, LogP: make([]float64, len(s.LogP))}
		if s.Values != nil {
			t.Values = make([]float64, len(s.Values))
		}
		return t
	}
	for gi, src := range b.Groups {
		dst := &g.Groups[gi]
		for i := range src.Samples {
			dst.Samples = append(dst.Samples, *twin(&src.Samples[i]))
		}
		dst.Rewards = src.Rewards
		dst.Reference, dst.Chosen, dst.Rejected = twin(src.Reference), twin(src.Chosen), twin(src.Rejected)
	}
	return g
}
