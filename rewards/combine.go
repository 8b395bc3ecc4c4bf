package rewards

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/grao-lab/grao/core"
)

// Part is one weighted term of Combine.
type Part struct {
	Reward core.Reward
	Weight float64
}

// Combine returns Σ_k w_k·r_k. A part that is not applicable to an item
// contributes 0 (its weight is not renormalised away, so the scale of the
// sum stays comparable across items); the item is not applicable only when
// no part applies. Bounds are the sum of the parts' weighted bounds, or
// unbounded when any part is. Deterministic when every part is.
func Combine(parts ...Part) (core.Reward, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("rewards: combine needs at least one part")
	}
	info := core.RewardInfo{Version: "1", Deterministic: true}
	names := make([]string, len(parts))
	var reads [][]string
	bounded := true
	for i, p := range parts {
		if p.Reward == nil {
			return nil, fmt.Errorf("rewards: combine part %d has no reward", i)
		}
		if !finite(p.Weight) {
			return nil, fmt.Errorf("rewards: combine part %d weight must be finite, got %v", i, p.Weight)
		}
		pi := p.Reward.Describe()
		names[i] = fmt.Sprintf("%g*%s", p.Weight, pi.Name)
		reads = append(reads, pi.Reads)
		info.Deterministic = info.Deterministic && pi.Deterministic
		info.Version += "/" + pi.Version
		if pi.Min == 0 && pi.Max == 0 {
			bounded = false
			continue
		}
		lo, hi := p.Weight*pi.Min, p.Weight*pi.Max
		if lo > hi {
			lo, hi = hi, lo
		}
		// A part that is not applicable contributes 0, so 0 is always
		// reachable for it.
		info.Min += min(lo, 0)
		info.Max += max(hi, 0)
	}
	if !bounded || (info.Min == 0 && info.Max == 0) {
		info.Min, info.Max = 0, 0
	}
	info.Name = "combine(" + strings.Join(names, "+") + ")"
	info.Reads = unionReads(reads...)
	ps := append([]Part(nil), parts...)
	return &combined{parts: ps, info: info}, nil
}

type combined struct {
	parts []Part
	info  core.RewardInfo
}

var _ core.Stateful = (*combined)(nil)

// MarshalState implements core.Stateful for the parts that have state: a
// JSON list with one entry per part (null for a part without state).
func (c *combined) MarshalState() ([]byte, error) {
	states := make([][]byte, len(c.parts))
	for k, p := range c.parts {
		if s, ok := p.Reward.(core.Stateful); ok {
			b, err := s.MarshalState()
			if err != nil {
				return nil, fmt.Errorf("%s: part %d: %w", c.info.Name, k, err)
			}
			states[k] = b
		}
	}
	return json.Marshal(states)
}

// UnmarshalState implements core.Stateful.
func (c *combined) UnmarshalState(b []byte) error {
	var states [][]byte
	if err := json.Unmarshal(b, &states); err != nil {
		return fmt.Errorf("%s: state: %w", c.info.Name, err)
	}
	if len(states) != len(c.parts) {
		return fmt.Errorf("%s: state of %d parts, want %d", c.info.Name, len(states), len(c.parts))
	}
	for k, p := range c.parts {
		s, ok := p.Reward.(core.Stateful)
		switch {
		case ok && states[k] != nil:
			if err := s.UnmarshalState(states[k]); err != nil {
				return fmt.Errorf("%s: part %d: %w", c.info.Name, k, err)
			}
		case ok != (states[k] != nil):
			return fmt.Errorf("%s: part %d: state does not match the part", c.info.Name, k)
		}
	}
	return nil
}

func (c *combined) Describe() core.RewardInfo {
	info := c.info
	info.Reads = append([]string(nil), c.info.Reads...)
	return info
}

func (c *combined) Score(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", c.info.Name, err)
	}
	out := make([]core.Score, len(items))
	for k, p := range c.parts {
		s, err := p.Reward.Score(ctx, items)
		if err != nil {
			return nil, fmt.Errorf("%s: part %d: %w", c.info.Name, k, err)
		}
		if len(s) != len(items) {
			return nil, fmt.Errorf("%s: part %d returned %d scores for %d items", c.info.Name, k, len(s), len(items))
		}
		for i := range items {
			if s[i].Applicable {
				out[i].Applicable = true
				out[i].Value += p.Weight * s[i].Value
			}
		}
	}
	return out, nil
}
