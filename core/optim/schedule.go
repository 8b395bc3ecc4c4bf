package optim

import (
	"fmt"
	"math"
)

// Schedule scales the base learning rate by step: linear warm-up over
// Warmup steps, then "constant" or "cosine" decay to MinFactor·lr at Total.
type Schedule struct {
	Kind      string  `toml:"kind"` // "constant" | "cosine"
	Warmup    int     `toml:"warmup"`
	Total     int     `toml:"total"`      // needed by cosine
	MinFactor float64 `toml:"min_factor"` // floor of the cosine, e.g. 0.1
}

// Validate names the first bad field.
func (s Schedule) Validate() error {
	switch {
	case s.Kind != "constant" && s.Kind != "cosine" && s.Kind != "":
		return fmt.Errorf("schedule kind must be \"constant\" or \"cosine\", got %q", s.Kind)
	case s.Warmup < 0:
		return fmt.Errorf("warmup must be ≥ 0, got %d", s.Warmup)
	case s.Kind == "cosine" && s.Total <= 0:
		return fmt.Errorf("cosine schedule needs total > 0 steps, got %d", s.Total)
	case s.MinFactor < 0 || s.MinFactor > 1:
		return fmt.Errorf("min_factor must be in [0,1], got %g", s.MinFactor)
	}
	return nil
}

// Factor is the multiplier at 1-based step.
func (s Schedule) Factor(step int) float64 {
	if s.Warmup > 0 && step <= s.Warmup {
		return float64(step) / float64(s.Warmup)
	}
	if s.Kind != "cosine" {
		return 1
	}
	span := s.Total - s.Warmup
	if span <= 0 {
		return 1
	}
	p := math.Min(1, float64(step-s.Warmup)/float64(span))
	return s.MinFactor + (1-s.MinFactor)*0.5*(1+math.Cos(math.Pi*p))
}
