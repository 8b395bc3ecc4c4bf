package rewards

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/grao-lab/grao/core"
)

// DefaultTieMargin is the judge's default tie margin: score differences up
// to this size are ties. It is below the smallest step the built-in rubrics
// make on purpose (e.g. a one-word-shorter padding), so ties mean "the same
// by the rubric", not "close".
const DefaultTieMargin = 0.05

// NewJudge returns the reference-relative judge of the paper:
//
//	R(o, y) = +1 if s(o) − s(y) > margin, −1 if s(y) − s(o) > margin, else 0
//
// where s is scorer's value for the completion o and for the reference y
// (the item's Reference put in the completion's place, same prompt and
// meta). An item is not applicable when its reference is empty or either
// score is not applicable. Both texts of a batch go to the scorer in one
// call.
func NewJudge(scorer core.Reward, margin float64) (core.Reward, error) {
	if scorer == nil {
		return nil, fmt.Errorf("rewards: judge needs a scorer")
	}
	if math.IsNaN(margin) || math.IsInf(margin, 0) || margin < 0 {
		return nil, fmt.Errorf("rewards: judge tie margin must be a finite number ≥ 0, got %v", margin)
	}
	si := scorer.Describe()
	return &judge{scorer: scorer, margin: margin, info: core.RewardInfo{
		Name:          fmt.Sprintf("judge(%s,margin=%g)", si.Name, margin),
		Version:       "1/" + si.Version,
		Reads:         unionReads(si.Reads, []string{"reference"}),
		Deterministic: si.Deterministic,
		Min:           -1, Max: 1,
	}}, nil
}

type judge struct {
	scorer core.Reward
	margin float64
	info   core.RewardInfo
}

func (j *judge) Describe() core.RewardInfo {
	info := j.info
	info.Reads = append([]string(nil), j.info.Reads...)
	return info
}

func (j *judge) Score(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", j.info.Name, err)
	}
	n := len(items)
	both := make([]core.RewardItem, 2*n)
	for i, it := range items {
		both[i] = it
		ref := it
		ref.Completion = it.Reference
		both[n+i] = ref
	}
	s, err := j.scorer.Score(ctx, both)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", j.info.Name, err)
	}
	if len(s) != 2*n {
		return nil, fmt.Errorf("%s: scorer returned %d scores for %d items", j.info.Name, len(s), 2*n)
	}
	out := make([]core.Score, n)
	for i := range items {
		so, sy := s[i], s[n+i]
		switch {
		case strings.TrimSpace(items[i].Reference) == "":
			out[i] = notApplicable("empty reference")
		case !so.Applicable:
			out[i] = notApplicable("completion: " + so.Info)
		case !sy.Applicable:
			out[i] = notApplicable("reference: " + sy.Info)
		default:
			d := so.Value - sy.Value
			v := 0.0
			if d > j.margin {
				v = 1
			} else if -d > j.margin {
				v = -1
			}
			out[i] = core.Score{Value: v, Applicable: true, Info: fmt.Sprintf("s(o)=%.3f s(y)=%.3f", so.Value, sy.Value)}
		}
	}
	return out, nil
}

// unionReads merges field lists, sorted and without duplicates.
func unionReads(lists ...[]string) []string {
	set := map[string]bool{}
	for _, l := range lists {
		for _, f := range l {
			set[f] = true
		}
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}
