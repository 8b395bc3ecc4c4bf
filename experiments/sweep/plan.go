package sweep

import (
	"encoding/json"
	"fmt"

	"github.com/google/renameio/v2"
)

// Plan is the content of plan.json: what a sweep will run.
type Plan struct {
	Sweep  string      `json:"sweep"`
	Trials int         `json:"trial_count"`
	Bases  int         `json:"base_models"` // distinct base keys
	List   []PlanTrial `json:"trials"`
}

// PlanTrial is one trial of a Plan.
type PlanTrial struct {
	ID        string            `json:"id"`
	Label     string            `json:"label"`
	Algorithm string            `json:"algorithm"`
	Task      string            `json:"task"`
	Model     string            `json:"model"` // the model's label
	Seed      uint64            `json:"seed"`
	Varying   map[string]string `json:"varying"`
	BaseKey   string            `json:"base_key"`
}

// NewPlan summarises trials (in their order).
func NewPlan(s *Sweep, trials []Trial) Plan {
	p := Plan{Sweep: s.name(), Trials: len(trials), List: make([]PlanTrial, len(trials))}
	bases := map[string]bool{}
	for i, t := range trials {
		v := t.Varying
		if v == nil {
			v = map[string]string{}
		}
		bk := t.BaseKey()
		bases[bk] = true
		p.List[i] = PlanTrial{ID: t.ID, Label: t.Label, Algorithm: t.Algorithm, Task: t.Task.Name,
			Model: t.Model.Label, Seed: t.Seed, Varying: v, BaseKey: bk}
	}
	p.Bases = len(bases)
	return p
}

// WritePlan writes plan.json (indented JSON, trailing newline) atomically:
// to a temporary file in the same directory, synced, then renamed over
// path, so a reader never sees half a plan. The directory must exist.
func WritePlan(path string, s *Sweep, trials []Trial) error {
	data, err := json.MarshalIndent(NewPlan(s, trials), "", "  ")
	if err != nil {
		return fmt.Errorf("sweep: plan: %w", err)
	}
	return writeAtomic(path, append(data, '\n'))
}

// writeAtomic writes data through a temporary file renamed over path
// (renameio): readers never see half a plan.
func writeAtomic(path string, data []byte) error {
	if err := renameio.WriteFile(path, data, 0o644, renameio.WithStaticPermissions(0o644)); err != nil {
		return fmt.Errorf("sweep: write %s: %w", path, err)
	}
	return nil
}
