package tasks

import (
	"context"
	"fmt"

	"github.com/grao-lab/grao/core"
)

// JudgeStats summarises a task's judge on a set of examples: how often it
// prefers chosen to rejected (should be ~1), rejected to chosen (~0), and
// how often it calls chosen a tie with itself (1 by construction of a
// score-difference judge; anything else is a bug). Rates are over
// applicable items.
type JudgeStats struct {
	N                  int     `json:"n"`
	Applicable         int     `json:"applicable"`
	ChosenOverRejected float64 `json:"chosen_over_rejected"` // R(chosen, y=rejected) = +1
	RejectedOverChosen float64 `json:"rejected_over_chosen"` // R(rejected, y=chosen) = +1
	ChosenTiesItself   float64 `json:"chosen_ties_itself"`   // R(chosen, y=chosen) = 0
	MeanScoreChosen    float64 `json:"mean_score_chosen"`
	MeanScoreRejected  float64 `json:"mean_score_rejected"`
}

// MeasureJudge runs t's judge and scorer over examples.
func MeasureJudge(ctx context.Context, t core.Task, examples []core.Example) (JudgeStats, error) {
	st := JudgeStats{N: len(examples)}
	mk := func(o, y func(core.Example) string) []core.RewardItem {
		items := make([]core.RewardItem, len(examples))
		for i, ex := range examples {
			items[i] = core.RewardItem{Prompt: ex.Prompt, Completion: o(ex), Reference: y(ex), Meta: ex.Meta}
		}
		return items
	}
	chosen := func(e core.Example) string { return e.Chosen }
	rejected := func(e core.Example) string { return e.Rejected }
	j := t.Judge()
	cr, err := j.Score(ctx, mk(chosen, rejected))
	if err != nil {
		return st, err
	}
	rc, err := j.Score(ctx, mk(rejected, chosen))
	if err != nil {
		return st, err
	}
	cc, err := j.Score(ctx, mk(chosen, chosen))
	if err != nil {
		return st, err
	}
	sc, err := t.Scorer().Score(ctx, mk(chosen, chosen))
	if err != nil {
		return st, err
	}
	sr, err := t.Scorer().Score(ctx, mk(rejected, chosen))
	if err != nil {
		return st, err
	}
	if len(cr) != len(examples) || len(rc) != len(examples) || len(cc) != len(examples) ||
		len(sc) != len(examples) || len(sr) != len(examples) {
		return st, fmt.Errorf("task %s: judge or scorer returned the wrong number of scores", t.Name())
	}
	var w, l, tie, a float64
	for i := range examples {
		if !cr[i].Applicable || !rc[i].Applicable || !cc[i].Applicable || !sc[i].Applicable || !sr[i].Applicable {
			continue
		}
		a++
		w += b2f(cr[i].Value > 0)
		l += b2f(rc[i].Value > 0)
		tie += b2f(cc[i].Value == 0)
		st.MeanScoreChosen += sc[i].Value
		st.MeanScoreRejected += sr[i].Value
	}
	st.Applicable = int(a)
	if a > 0 {
		st.ChosenOverRejected, st.RejectedOverChosen, st.ChosenTiesItself = w/a, l/a, tie/a
		st.MeanScoreChosen /= a
		st.MeanScoreRejected /= a
	}
	return st, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
