package all_test

import (
	"testing"

	"github.com/grao-lab/grao/algorithms/algotest"
	"github.com/grao-lab/grao/algorithms/dpo"
	"github.com/grao-lab/grao/algorithms/grao"
	"github.com/grao-lab/grao/algorithms/grpo"
	"github.com/grao-lab/grao/algorithms/ppo"
	"github.com/grao-lab/grao/algorithms/sft"
)

// The losses at a paper-sized batch (64 sequences × 128 tokens, G = 8): they
// should cost microseconds next to the model's forward/backward.
const benchB, benchT = 64, 128

func BenchmarkLosses(b *testing.B) {
	r := algotest.NewRand(99)
	seqs := func() [][]float64 { return algotest.RandSeqs(r, benchB, benchT, benchT, -3, -0.1) }
	lp, old, ref, vals, oldV := seqs(), seqs(), seqs(), seqs(), seqs()
	rewards := make([]float64, benchB)
	for i := range rewards {
		rewards[i] = float64(r.IntN(3) - 1)
	}
	b.Run("sft", func(b *testing.B) {
		for b.Loop() {
			sft.Loss(sft.Input{LogP: lp}, sft.DefaultParams())
		}
	})
	b.Run("dpo", func(b *testing.B) {
		in := dpo.Input{PolicyChosen: lp, PolicyRejected: old, RefChosen: ref, RefRejected: vals}
		for b.Loop() {
			dpo.Loss(in, dpo.DefaultParams())
		}
	})
	b.Run("grpo", func(b *testing.B) {
		in := grpo.Input{LogP: lp, OldLogP: old, RefLogP: ref, Rewards: rewards}
		for b.Loop() {
			grpo.Loss(in, grpo.DefaultParams())
		}
	})
	b.Run("grao", func(b *testing.B) {
		var in grao.Input
		for k := 0; k < benchB/8; k++ {
			in.Prompts = append(in.Prompts, grao.Prompt{Samples: lp[8*k : 8*k+8], Reference: ref[k], Rewards: rewards[8*k : 8*k+8]})
		}
		for b.Loop() {
			grao.Loss(in, grao.DefaultParams())
		}
	})
	b.Run("ppo", func(b *testing.B) {
		in := ppo.Input{LogP: lp, OldLogP: old, RefLogP: ref, Values: vals, OldValues: oldV, Scores: rewards}
		for b.Loop() {
			ppo.Loss(in, ppo.DefaultParams())
		}
	})
}
