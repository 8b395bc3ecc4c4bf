package runner

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/experiments/evaluate"
	"github.com/grao-lab/grao/experiments/sweep"
)

// PassKFile is passk.json: K answers per eval prompt of the trial's final
// policy, judged. The report turns the counts into unbiased pass@k.
type PassKFile struct {
	Schema      int     `json:"schema"`
	Trial       string  `json:"trial"`
	K           int     `json:"k"`
	Temperature float64 `json:"temperature"`
	Seed        uint64  `json:"seed"`
	MaxNew      int     `json:"max_new_tokens"`
	Split       string  `json:"split,omitempty"`
	// Per prompt, in eval order: answers judged correct (R ≥ 0) and
	// answers that beat the reference (R > 0), out of K.
	Correct []int    `json:"correct"`
	Wins    []int    `json:"wins"`
	Kinds   []string `json:"kinds,omitempty"`
	Regimes []string `json:"regimes,omitempty"`
	// Tokens generated for the counts.
	Tokens int `json:"tokens"`
}

// PassKName is the file a trial's pass@k counts are written to.
const PassKName = "passk.json"

// matches reports whether f was made with spec's settings.
func (f *PassKFile) matches(spec sweep.PassKSpec) bool {
	return f.K == spec.K && f.Temperature == spec.Temperature && f.Seed == spec.Seed && f.MaxNew == spec.MaxNew
}

// needsPassK reports whether a finished trial lacks the pass@k counts the
// sweep asks for (or has counts made with other settings).
func (e *env) needsPassK(tr sweep.Trial) bool {
	if e.passk.K == 0 || tr.Eval.Split == "dev" {
		return false
	}
	var f PassKFile
	if err := readJSON(filepath.Join(e.dir, "runs", tr.ID, PassKName), &f); err != nil {
		return true
	}
	return !f.matches(e.passk)
}

// writePassK samples and writes passk.json for a trial's final policy
// (not for selection trials, which only choose hyper-parameters).
func (e *env) writePassK(ctx context.Context, tr sweep.Trial, policy core.Engine, task core.Task, exs []core.Example) error {
	spec := e.passk
	if spec.K == 0 || tr.Eval.Split == "dev" {
		return nil
	}
	tok, _ := e.bases.tokenizer(tr)
	cfg := evaluate.Config{Temperature: spec.Temperature, MaxNew: spec.MaxNew, Seed: spec.Seed, Truncate: tr.Task.Truncate == "left", Tokenizer: tok}
	c, err := evaluate.SampleK(ctx, policy, task, exs, spec.K, cfg)
	if err != nil {
		return fmt.Errorf("pass@k: %w", err)
	}
	_, kinds, regimes := promptGroups(exs)
	f := PassKFile{Schema: SchemaVersion, Trial: tr.ID, K: spec.K, Temperature: spec.Temperature, Seed: spec.Seed, MaxNew: spec.MaxNew,
		Split: tr.Eval.Split, Correct: c.Correct, Wins: c.Wins, Kinds: kinds, Regimes: regimes, Tokens: c.Tokens}
	return writeJSON(filepath.Join(e.dir, "runs", tr.ID, PassKName), f)
}

// passKOnly computes the pass@k counts of a finished trial from its saved
// policy (a sweep that gained [passk] after its trials ran).
func (e *env) passKOnly(ctx context.Context, tr sweep.Trial) error {
	_, task, _, err := e.taskAndBase(ctx, tr)
	if err != nil {
		return err
	}
	exs, err := evalExamples(tr, task)
	if err != nil {
		return err
	}
	policy, err := checkpoint.Open(filepath.Join(e.dir, "runs", tr.ID))
	if err != nil {
		return err
	}
	return e.writePassK(ctx, tr, model.NewFrozen(policy.Params), task, exs)
}
