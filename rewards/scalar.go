package rewards

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/grao-lab/grao/core"
)

// Scalar turns a scorer into a dense reward: scale·v + offset, where v is
// the scorer's value for the completion, or, when relative is set, the
// difference s(o) − s(y) with the reference (the judge's continuous
// cousin). Bounds follow from the scorer's; an unbounded scorer gives an
// unbounded reward.
func Scalar(scorer core.Reward, scale, offset float64, relative bool) (core.Reward, error) {
	if scorer == nil {
		return nil, fmt.Errorf("rewards: scalar reward needs a scorer")
	}
	if !finite(scale) || !finite(offset) {
		return nil, fmt.Errorf("rewards: scalar scale and offset must be finite, got %v, %v", scale, offset)
	}
	si := scorer.Describe()
	info := core.RewardInfo{
		Name:          fmt.Sprintf("scalar(%s,scale=%g,offset=%g,relative=%t)", si.Name, scale, offset, relative),
		Version:       "1/" + si.Version,
		Reads:         unionReads(si.Reads),
		Deterministic: si.Deterministic,
	}
	if relative {
		info.Reads = unionReads(si.Reads, []string{"reference"})
	}
	if si.Min != 0 || si.Max != 0 {
		lo, hi := si.Min, si.Max
		if relative {
			lo, hi = si.Min-si.Max, si.Max-si.Min
		}
		lo, hi = scale*lo+offset, scale*hi+offset
		if lo > hi {
			lo, hi = hi, lo
		}
		// A constant-zero reward (scale = offset = 0) ends up "unbounded"
		// (0, 0), which only switches bound checks off.
		info.Min, info.Max = lo, hi
	}
	return &scalar{scorer: scorer, scale: scale, offset: offset, relative: relative, info: info}, nil
}

type scalar struct {
	scorer        core.Reward
	scale, offset float64
	relative      bool
	info          core.RewardInfo
}

func (s *scalar) Describe() core.RewardInfo {
	info := s.info
	info.Reads = append([]string(nil), s.info.Reads...)
	return info
}

func (s *scalar) Score(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.info.Name, err)
	}
	batch := items
	n := len(items)
	if s.relative {
		batch = make([]core.RewardItem, 2*n)
		copy(batch, items)
		for i, it := range items {
			it.Completion = it.Reference
			batch[n+i] = it
		}
	}
	sc, err := s.scorer.Score(ctx, batch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.info.Name, err)
	}
	if len(sc) != len(batch) {
		return nil, fmt.Errorf("%s: scorer returned %d scores for %d items", s.info.Name, len(sc), len(batch))
	}
	out := make([]core.Score, n)
	for i := range items {
		v := sc[i]
		if !v.Applicable {
			out[i] = notApplicable(v.Info)
			continue
		}
		x := v.Value
		if s.relative {
			if strings.TrimSpace(items[i].Reference) == "" {
				out[i] = notApplicable("empty reference")
				continue
			}
			y := sc[n+i]
			if !y.Applicable {
				out[i] = notApplicable("reference: " + y.Info)
				continue
			}
			x -= y.Value
		}
		out[i] = core.Score{Value: s.scale*x + s.offset, Applicable: true, Info: v.Info}
	}
	return out, nil
}

// LengthPenalty is −min(max, perByte·(n − target)) for a completion of n
// bytes (surrounding white space ignored) longer than target, else 0. It
// counts bytes because the policies are byte-level: a byte is a token.
func LengthPenalty(target int, perByte, max float64) (core.Reward, error) {
	if target < 0 || !finite(perByte) || perByte < 0 || !finite(max) || max <= 0 {
		return nil, fmt.Errorf("rewards: length penalty needs target ≥ 0, per_byte ≥ 0 and a finite max > 0, got %d, %v, %v",
			target, perByte, max)
	}
	return &itemReward{
		info: core.RewardInfo{
			Name:    fmt.Sprintf("length(target=%d,per_byte=%g,max=%g)", target, perByte, max),
			Version: "1", Reads: []string{"completion"}, Deterministic: true, Min: -max, Max: 0,
		},
		fn: func(it *core.RewardItem) core.Score {
			n := len(strings.TrimSpace(it.Completion))
			p := 0.0
			if n > target {
				p = math.Min(max, perByte*float64(n-target))
			}
			// -0 would print as "-0" in logs; keep a clean zero.
			return core.Score{Value: 0 - p, Applicable: true, Info: fmt.Sprintf("bytes=%d", n)}
		},
	}, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
