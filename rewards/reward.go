package rewards

import (
	"context"
	"fmt"

	"github.com/grao-lab/grao/core"
)

// ctxCheckEvery is how many items are scored between context checks: the
// per-item work is microseconds, so checking every item would dominate.
const ctxCheckEvery = 64

// itemReward adapts a pure per-item function to core.Reward.
type itemReward struct {
	info core.RewardInfo
	fn   func(it *core.RewardItem) core.Score
}

func (r *itemReward) Describe() core.RewardInfo {
	info := r.info
	info.Reads = append([]string(nil), r.info.Reads...)
	return info
}

func (r *itemReward) Score(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", r.info.Name, err)
	}
	out := make([]core.Score, len(items))
	for i := range items {
		if i%ctxCheckEvery == ctxCheckEvery-1 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("%s: %w", r.info.Name, err)
			}
		}
		out[i] = r.fn(&items[i])
	}
	return out, nil
}

func notApplicable(why string) core.Score { return core.Score{Info: "n/a: " + why} }
