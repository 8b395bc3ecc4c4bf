package rewards

import (
	"context"
	"math/rand/v2"
	"sync"

	"github.com/grao-lab/grao/core"
)

// Random is the reward of a random-reward control arm: every item gets −1
// or +1 with probability ½ each, whatever it says (Shao et al. 2025,
// "Spurious Rewards"). An RL method's gain over its own random-reward arm
// is the part of its gain the reward's content explains; the rest comes
// from the mere act of sampling and reinforcing the policy's own outputs.
//
// The values span the judge's range so that the arm differs from a judged
// run only in what the reward says, not in its scale (a value head and
// GRAO's reference term see the same magnitudes). Draws come from one
// PCG stream seeded by seed, consumed in call order: a trial that calls
// Score in the same order gets the same rewards (the trainer does).
type Random struct {
	mu  sync.Mutex
	src *rand.PCG
	rng *rand.Rand
}

var (
	_ core.Reward   = (*Random)(nil)
	_ core.Stateful = (*Random)(nil)
)

// randomStream separates the reward's stream from the trial's others
// that share its seed.
const randomStream = 0x72616e646f6d // "random"

// NewRandom returns a Random reward seeded by seed.
func NewRandom(seed uint64) *Random {
	src := rand.NewPCG(seed, randomStream)
	return &Random{src: src, rng: rand.New(src)}
}

// MarshalState implements core.Stateful: the stream's position, so that a
// resumed trial draws what the uninterrupted one would have.
func (r *Random) MarshalState() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.src.MarshalBinary()
}

// UnmarshalState implements core.Stateful.
func (r *Random) UnmarshalState(b []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.src.UnmarshalBinary(b)
}

// Describe implements core.Reward.
func (r *Random) Describe() core.RewardInfo {
	return core.RewardInfo{Name: "random(bernoulli 0.5, ±1)", Version: "1", Deterministic: false, Min: -1, Max: 1}
}

// Score implements core.Reward.
func (r *Random) Score(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]core.Score, len(items))
	for i := range out {
		v := -1.0
		if r.rng.Uint64()&1 == 1 {
			v = 1
		}
		out[i] = core.Score{Value: v, Applicable: true}
	}
	return out, nil
}
