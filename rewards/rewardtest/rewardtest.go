// Package rewardtest is the conformance suite every core.Reward must pass:
// call Run from a test with a representative batch of items. The checks are
// contract.Check's (the same ones `bench plugin check` runs on a
// plugin): the description, one finite, in-bounds score per item,
// determinism when declared, batch and one-by-one scoring agreeing,
// items left unmodified, and a cancelled context refused.
package rewardtest

import (
	"context"
	"testing"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/rewards/contract"
)

// Run checks r against the core.Reward contract on items. Use at least a
// few items, some of them not applicable if the reward has that case.
func Run(t testing.TB, r core.Reward, items []core.RewardItem) {
	t.Helper()
	problems, notes := contract.Check(context.Background(), r, items)
	for _, n := range notes {
		t.Logf("%s", n)
	}
	for _, p := range problems {
		t.Errorf("%s", p)
	}
}
