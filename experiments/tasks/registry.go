package tasks

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/rewards"
)

// spec describes a built-in task.
type spec struct {
	summary             string
	gen                 generator
	train, eval, corpus int
	chosenFair          float64 // probability that chosen is the beatable "fair" answer
	scorer              func() core.Reward
}

var builtins = map[string]spec{
	"arith": {
		summary: "arithmetic (+, -, *) on 1–2-digit operands; chosen exact, often padded",
		gen:     genArith, train: 5000, eval: 500, corpus: 8000, chosenFair: 0.7,
		scorer: rewards.ArithRubric,
	},
	"hh-helpful": {
		summary: "checkable requests (word arithmetic, reverse, count, sort, units, facts); chosen correct but often padded",
		gen:     genHelpful, train: 5000, eval: 400, corpus: 8000, chosenFair: 0.8,
		scorer: rewards.HelpfulRubric,
	},
	"hh-harmless": {
		summary: "harmful-intent requests (abstract) mixed 50/50 with benign look-alikes; chosen generic",
		gen:     genHarmless, train: 3000, eval: 200, corpus: 8000, chosenFair: 0.9,
		scorer: rewards.HarmlessRubric,
	},
}

// Names lists the built-in tasks.
func Names() []string {
	out := make([]string, 0, len(builtins)+1)
	for n := range builtins {
		out = append(out, n)
	}
	out = append(out, Skills)
	sort.Strings(out)
	return out
}

// Summary describes a built-in task in one line ("" if unknown).
func Summary(name string) string {
	if name == Skills {
		return "calibrated kinds with difficulty knobs: explore (compare, letters, repeat, count, add, reverse, sort) and imitate (invented facts); chosen always padded"
	}
	return builtins[name].summary
}

// Get builds a built-in task from a seed. Options: WithSizes,
// WithCorpusSize, WithCorpusMix, WithTieMargin, WithDevSize, WithDigits
// (arith only), WithKinds and WithLevels (skills only).
func Get(name string, seed uint64, opts ...Option) (core.Task, error) {
	sp, ok := builtins[name]
	if !ok && name != Skills {
		return nil, fmt.Errorf("unknown task %q (have %s, or a .jsonl path)", name, strings.Join(Names(), ", "))
	}
	c, err := newConfig(opts)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", name, err)
	}
	if c.digitsSet && name != "arith" {
		return nil, fmt.Errorf("task %s: the digits option applies to arith only", name)
	}
	if c.evalFractionSet {
		return nil, fmt.Errorf("task %s: the eval fraction applies to JSONL datasets only (use sizes)", name)
	}
	if (c.kinds != nil || c.levels != nil) && name != Skills {
		return nil, fmt.Errorf("task %s: kinds and levels apply to the %s task only", name, Skills)
	}
	if name == Skills {
		return buildSkills(c, seed)
	}
	if !c.sizesSet {
		c.train, c.eval = sp.train, sp.eval
	}
	if !c.corpusSet {
		c.corpus = sp.corpus
	}
	t, err := build(name, sp.gen, c, seed, sp.chosenFair, sp.scorer())
	if err != nil {
		return nil, err
	}
	t.dense = denseFor(name)
	return t, nil
}

// Open resolves a task name as a sweep gives it: a built-in name, or a
// path to a JSONL dataset (ending in .jsonl, or an existing file).
func Open(nameOrPath string, seed uint64, opts ...Option) (core.Task, error) {
	if _, ok := builtins[nameOrPath]; ok || nameOrPath == Skills {
		return Get(nameOrPath, seed, opts...)
	}
	if strings.HasSuffix(nameOrPath, ".jsonl") || fileExists(nameOrPath) {
		c, err := newConfig(opts)
		if err != nil {
			return nil, fmt.Errorf("task %s: %w", nameOrPath, err)
		}
		return FromJSONL(nameOrPath, seed, c.evalFraction, opts...)
	}
	return Get(nameOrPath, seed, opts...) // reports the unknown name
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
