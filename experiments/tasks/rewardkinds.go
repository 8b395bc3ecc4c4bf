package tasks

import (
	"fmt"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/rewards"
)

// The reward kinds a task provides: its ternary judge (the default), its
// scalar rubric score, and the dense reference-relative score.
func init() {
	rewards.Register("judge", rewards.Kind{New: func(_ rewards.Spec, env rewards.Env) (core.Reward, func(), error) {
		return env.Task.Judge(), nil, nil
	}})
	rewards.Register("score", rewards.Kind{New: func(_ rewards.Spec, env rewards.Env) (core.Reward, func(), error) {
		return env.Task.Scorer(), nil, nil
	}})
	rewards.Register("dense", rewards.Kind{New: func(_ rewards.Spec, env rewards.Env) (core.Reward, func(), error) {
		r, err := denseReward(env.Task)
		return r, nil, err
	}})
}

// denseReward is s(o) − s(y) under the task's partial-credit rubric: a
// wrong answer's near misses score above its garbage, and R(y, y) = 0
// exactly, as with the judge.
func denseReward(task core.Task) (core.Reward, error) {
	ds, ok := task.(DenseScorer)
	if !ok || ds.DenseScorer() == nil {
		return nil, fmt.Errorf("reward dense: task %s has no partial-credit rubric", task.Name())
	}
	return rewards.Scalar(ds.DenseScorer(), 1, 0, true)
}
