package trainer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
)

// rolled is one prompt's rollout: its G completions and their scores.
type rolled struct {
	ex     core.Example
	prompt []int
	outs   []model.Completion
	scores []core.Score
	// ref is the training reward of the reference answer (Needs.Reference).
	ref *core.Score
	// judged are the judge's values of the samples (diagnostics).
	judged []float64
}

// rewards returns the group's training rewards ("not applicable" counts
// as a tie, 0) and R(y, y) when the reference was scored.
func (r *rolled) rewards() ([]float64, *float64) {
	rs := make([]float64, len(r.scores))
	for i, s := range r.scores {
		if s.Applicable {
			rs[i] = s.Value
		}
	}
	if r.ref == nil {
		return rs, nil
	}
	v := 0.0
	if r.ref.Applicable {
		v = r.ref.Value
	}
	return rs, &v
}

// rollout samples G completions per prompt and scores them. With a group
// filter (Needs.Keep, dynamic sampling) a rejected group is replaced by the
// group of a freshly drawn prompt, for at most Needs.MaxRounds rounds;
// exs and prompts are updated in place to the groups that form the batch.
// The samples are then added to the batch as its first rows.
func (t *Trainer) rollout(ctx context.Context, rng *rand.Rand, exs []core.Example, prompts [][]int,
	batch, grad *core.Batch, add func(int, *core.Seq, *core.Seq, []int), log *StepLog) error {
	G := t.needs.Samples
	groups, err := t.generate(ctx, rng, exs, prompts, log)
	if err != nil {
		return err
	}
	// The zero-variance diagnostics describe the groups as drawn, before
	// any filter.
	var judged []float64
	for _, g := range groups {
		judged = append(judged, g.judged...)
	}
	zv, lose, win := groupShares(judged, G)
	log.ZeroVar, log.AllLose, log.AllWin = &zv, &lose, &win
	if t.needs.Keep != nil {
		if groups, err = t.resample(ctx, rng, groups, log); err != nil {
			return err
		}
		for i, g := range groups {
			exs[i], prompts[i] = g.ex, g.prompt
		}
	}

	var rs, lens []float64
	var nll float64
	for i, g := range groups {
		bg, gg := &batch.Groups[i], &grad.Groups[i]
		bg.Samples, gg.Samples = make([]core.Seq, G), make([]core.Seq, G)
		bg.Rewards, bg.RefReward = g.rewards()
		gg.Rewards = bg.Rewards
		for k, o := range g.outs {
			s := &bg.Samples[k]
			add(i, s, &gg.Samples[k], o.Tokens)
			s.OldLogP = make([]float64, len(o.LogProbs))
			for j, lp := range o.LogProbs {
				s.OldLogP[j] = float64(lp)
				nll -= float64(lp)
			}
			lens = append(lens, float64(len(o.Tokens)))
		}
		rs = append(rs, bg.Rewards...)
	}
	m, sd := meanStd(rs)
	lm, _ := meanStd(lens)
	e := nll / (lm * float64(len(lens)))
	log.RewardMean, log.RewardStd, log.LengthMean, log.Entropy = &m, &sd, &lm, &e
	return nil
}

// resample applies the group filter: groups it rejects are replaced, in
// order, by accepted groups of fresh prompts drawn from rng, for at most
// MaxRounds rollout rounds in all. When the rounds run out, the first
// rejected groups fill the batch (their advantages are zero for the
// group-relative methods such a filter serves), so the batch keeps its
// size; the share kept is logged.
func (t *Trainer) resample(ctx context.Context, rng *rand.Rand, groups []rolled, log *StepLog) ([]rolled, error) {
	P := len(groups)
	var kept, dropped []rolled
	sort := func(gs []rolled) {
		for _, g := range gs {
			rs, ref := g.rewards()
			if t.needs.Keep(&core.Group{Rewards: rs, RefReward: ref}) {
				kept = append(kept, g)
			} else {
				dropped = append(dropped, g)
			}
		}
	}
	sort(groups)
	rounds := 1
	for ; len(kept) < P && rounds < t.needs.MaxRounds; rounds++ {
		exs := make([]core.Example, P)
		prompts := make([][]int, P)
		for i := range exs {
			exs[i] = t.train[rng.IntN(len(t.train))]
			var err error
			if prompts[i], err = t.promptIDs(exs[i].Prompt); err != nil {
				return nil, fmt.Errorf("trainer: train prompt %q: %w", exs[i].Prompt, err)
			}
		}
		more, err := t.generate(ctx, rng, exs, prompts, log)
		if err != nil {
			return nil, err
		}
		sort(more)
	}
	share := float64(min(len(kept), P)) / float64(P)
	log.Rounds, log.Kept = rounds, &share
	if len(kept) >= P {
		return kept[:P], nil
	}
	return append(kept, dropped[:P-len(kept)]...), nil
}

// generate runs one rollout round: G completions for each prompt, scored
// by the training reward (with the reference answers when the algorithm
// trains on R(y, y)) and, for the diagnostics, by the judge.
func (t *Trainer) generate(ctx context.Context, rng *rand.Rand, exs []core.Example, prompts [][]int, log *StepLog) ([]rolled, error) {
	G := t.needs.Samples
	t0 := time.Now()
	var all [][]int
	for i := range exs {
		for range G {
			all = append(all, prompts[i])
		}
	}
	sc := t.cfg.Sample
	sc.Seed = rng.Uint64()
	outs, err := t.Policy.Sample(ctx, all, sc)
	if err != nil {
		return nil, err
	}
	log.Timing.Rollout += time.Since(t0).Seconds()
	log.Compute.Samples += len(outs)
	for _, o := range outs {
		log.Compute.Generated += len(o.Tokens)
	}
	t0 = time.Now()
	items := make([]core.RewardItem, len(outs), len(outs)+len(exs))
	for k, o := range outs {
		ex := exs[k/G]
		items[k] = core.RewardItem{Prompt: ex.Prompt, Completion: t.tok.Decode(o.Tokens), Reference: ex.Chosen, Meta: ex.Meta}
	}
	// The reference answers are scored too when the algorithm trains on
	// them (GRAO's R(y, y)), in the same call.
	if t.needs.Reference {
		for _, ex := range exs {
			items = append(items, core.RewardItem{Prompt: ex.Prompt, Completion: ex.Chosen, Reference: ex.Chosen, Meta: ex.Meta})
		}
	}
	scores, err := t.reward.Score(ctx, items)
	if err != nil {
		return nil, fmt.Errorf("trainer: reward %s: %w", t.reward.Describe().Name, err)
	}
	if len(scores) != len(items) {
		return nil, fmt.Errorf("trainer: reward %s returned %d scores for %d items", t.reward.Describe().Name, len(scores), len(items))
	}
	judged := make([]float64, len(outs))
	for k, sc := range scores[:len(outs)] {
		if sc.Applicable {
			judged[k] = sc.Value
		}
	}
	if t.judge != nil && t.judge != t.reward {
		js, err := t.judge.Score(ctx, items[:len(outs)])
		if err != nil {
			return nil, fmt.Errorf("trainer: judge %s: %w", t.judge.Describe().Name, err)
		}
		if len(js) != len(outs) {
			return nil, fmt.Errorf("trainer: judge %s returned %d scores for %d items", t.judge.Describe().Name, len(js), len(outs))
		}
		for k, sc := range js {
			judged[k] = 0
			if sc.Applicable {
				judged[k] = sc.Value
			}
		}
	}
	log.Timing.Reward += time.Since(t0).Seconds()
	groups := make([]rolled, len(exs))
	for i := range groups {
		g := &groups[i]
		g.ex, g.prompt = exs[i], prompts[i]
		g.outs, g.scores, g.judged = outs[i*G:(i+1)*G], scores[i*G:(i+1)*G], judged[i*G:(i+1)*G]
		if t.needs.Reference {
			g.ref = &scores[len(outs)+i]
		}
	}
	return groups, nil
}
