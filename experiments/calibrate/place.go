package calibrate

import (
	"context"
	"fmt"
	"math"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/experiments/tasks"
)

// Band is a target range of base pass@1, [Lo, Hi].
type Band struct {
	Lo float64 `json:"lo" toml:"lo"`
	Hi float64 `json:"hi" toml:"hi"`
}

// Validate checks 0 ≤ Lo ≤ Hi ≤ 1.
func (b Band) Validate() error {
	if !(b.Lo >= 0 && b.Lo <= b.Hi && b.Hi <= 1) {
		return fmt.Errorf("band [%g, %g]: want 0 ≤ lo ≤ hi ≤ 1", b.Lo, b.Hi)
	}
	return nil
}

// distance is 0 inside the band, else how far pass is from it.
func (b Band) distance(pass float64) float64 {
	switch {
	case pass < b.Lo:
		return b.Lo - pass
	case pass > b.Hi:
		return pass - b.Hi
	}
	return 0
}

// Candidate is one kind at one level, with the examples to measure it on
// (the first prompts of its train split at that level).
type Candidate struct {
	Kind     string
	Level    int
	Examples []core.Example
}

// Candidates lists each of kinds at every level it has, or at levels[kind]
// alone where given, with the first prompts of the train split of
// open(kind, level), a task of that one kind at that level. It also
// returns the judge and scorer of those tasks, which all kinds share.
func Candidates(kinds []string, levels map[string]int, prompts int, open func(kind string, level int) (core.Task, error)) ([]Candidate, core.Reward, core.Reward, error) {
	var out []Candidate
	var judge, scorer core.Reward
	for _, n := range kinds {
		k, _ := tasks.LookupKind(n)
		lo, hi := 1, k.Levels
		if l, ok := levels[n]; ok {
			lo, hi = l, l
		}
		for l := lo; l <= hi; l++ {
			t, err := open(n, l)
			if err != nil {
				return nil, nil, nil, err
			}
			judge, scorer = t.Judge(), t.Scorer()
			train := t.Train()
			out = append(out, Candidate{Kind: n, Level: l, Examples: train[:min(prompts, len(train))]})
		}
	}
	return out, judge, scorer, nil
}

// Placement is where Place put each kind: the level whose pass@1 is in
// the band and nearest its middle, or, when no level reaches the band,
// the level nearest to it (InBand false). Tried holds every measurement.
type Placement struct {
	Band   Band            `json:"band"`
	Levels map[string]int  `json:"levels"`
	InBand map[string]bool `json:"in_band"`
	Tried  Table           `json:"tried"`
}

// Place measures every candidate in one batch and picks one level per
// kind; ties go to the lower (easier) level. judge and scorer are the
// task's.
func Place(ctx context.Context, p core.Engine, judge, scorer core.Reward, cands []Candidate, band Band, cfg Config) (Placement, error) {
	pl := Placement{Band: band, Levels: map[string]int{}, InBand: map[string]bool{}}
	if err := band.Validate(); err != nil {
		return pl, err
	}
	var exs []core.Example
	for _, c := range cands {
		if len(c.Examples) == 0 {
			return pl, fmt.Errorf("calibrate: kind %s level %d has no examples", c.Kind, c.Level)
		}
		for _, ex := range c.Examples {
			if KindOf(ex) != c.Kind || metaInt(ex.Meta["level"]) != c.Level {
				return pl, fmt.Errorf("calibrate: an example of candidate %s level %d is of kind %s level %v",
					c.Kind, c.Level, KindOf(ex), ex.Meta["level"])
			}
		}
		exs = append(exs, c.Examples...)
	}
	t, err := Measure(ctx, p, judge, scorer, exs, cfg)
	if err != nil {
		return pl, err
	}
	pl.Tried = t
	best := map[string]float64{}
	mid := (band.Lo + band.Hi) / 2
	for _, row := range t.Kinds {
		// In the band, nearness to the middle decides; outside, distance
		// to the band (offset by 1 so any in-band level wins).
		d := math.Abs(row.Pass - mid)
		if band.distance(row.Pass) > 0 {
			d = 1 + band.distance(row.Pass)
		}
		if b, ok := best[row.Kind]; !ok || d < b || (d == b && row.Level < pl.Levels[row.Kind]) {
			best[row.Kind] = d
			pl.Levels[row.Kind] = row.Level
			pl.InBand[row.Kind] = d < 1
		}
	}
	return pl, nil
}
