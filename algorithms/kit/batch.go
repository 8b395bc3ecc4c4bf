package kit

import (
	"fmt"

	"github.com/grao-lab/grao/core"
)

// Samples flattens the sampled completions of a batch, group after group,
// into the Input the loss functions take: the policy's log-probs, the
// behaviour policy's, the reference model's (nil unless withRef and every
// sample has them) and one reward per sequence.
func Samples(b *core.Batch, withRef bool) Input {
	var in Input
	for _, g := range b.Groups {
		for i, s := range g.Samples {
			in.LogP = append(in.LogP, s.LogP)
			in.OldLogP = append(in.OldLogP, s.OldLogP)
			in.RefLogP = append(in.RefLogP, s.RefLogP)
			in.Rewards = append(in.Rewards, g.Rewards[i])
			withRef = withRef && s.RefLogP != nil
		}
	}
	if !withRef {
		in.RefLogP = nil
	}
	return in
}

// SampleLoss is core.Algorithm.Loss for a loss over sampled completions:
// it flattens the batch (Samples), runs loss, and copies the gradient back
// into grad.
func SampleLoss(b, grad *core.Batch, withRef bool, loss func(Input) (Result, error)) (core.LossValue, error) {
	r, err := loss(Samples(b, withRef))
	if err != nil {
		return core.LossValue{}, err
	}
	SetSampleGrads(grad, r.Grad.LogP)
	return core.LossValue{Loss: r.Loss, Components: r.Components}, nil
}

// SetSampleGrads copies dLoss/dLogP of the flattened samples (in the order
// of Samples) into the trainer's gradient batch.
func SetSampleGrads(grad *core.Batch, g [][]float64) {
	k := 0
	for gi := range grad.Groups {
		for si := range grad.Groups[gi].Samples {
			copy(grad.Groups[gi].Samples[si].LogP, g[k])
			k++
		}
	}
}

// CheckSeqs validates a flattened batch of sampled completions: at least
// one sequence, one reward per sequence, whole groups of g, no empty
// completion, old and reference log-probs (when given) shaped like logp,
// and every value finite.
func CheckSeqs(logp, old, ref [][]float64, rewards []float64, g int) error {
	B := len(logp)
	if B == 0 {
		return fmt.Errorf("logp is empty (no sequences)")
	}
	if len(rewards) != B {
		return fmt.Errorf("rewards has %d entries but logp has %d sequences", len(rewards), B)
	}
	if g < 1 || B%g != 0 {
		return fmt.Errorf("%d sequences do not split into groups of g = %d", B, g)
	}
	if err := Finite("rewards", rewards); err != nil {
		return err
	}
	for i, s := range logp {
		if len(s) == 0 {
			return fmt.Errorf("logp[%d] is empty (a completion needs ≥ 1 token)", i)
		}
		if err := Finite(fmt.Sprintf("logp[%d]", i), s); err != nil {
			return err
		}
	}
	for _, o := range []struct {
		name string
		x    [][]float64
	}{{"old_logp", old}, {"ref_logp", ref}} {
		if o.x == nil {
			continue
		}
		if len(o.x) != B {
			return fmt.Errorf("%s has %d sequences but logp has %d", o.name, len(o.x), B)
		}
		for i, s := range o.x {
			if len(s) != len(logp[i]) {
				return fmt.Errorf("%s[%d] has %d tokens but logp[%d] has %d", o.name, i, len(s), i, len(logp[i]))
			}
			if err := Finite(fmt.Sprintf("%s[%d]", o.name, i), s); err != nil {
				return err
			}
		}
	}
	return nil
}

// Fill returns n copies of v.
func Fill(n int, v float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}
