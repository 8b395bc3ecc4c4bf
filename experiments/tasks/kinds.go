package tasks

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Regimes of a skills kind: what a method must do to gain on it.
const (
	// RegimeExplore kinds are solvable from the prompt (copying, comparing,
	// counting) and a base model gets some right; their references are
	// padded, so a policy beats them only by answering correctly and
	// concisely, which sampling with a reward can find and imitating the
	// reference cannot (imitation ties at best).
	RegimeExplore = "explore"
	// RegimeImitate kinds ask for facts that exist only in the alignment
	// references (invented, absent from the pre-training corpus) and are
	// evaluated under templates never used in training: a base model gets
	// none right, so reward-only methods see only all-lose groups, and
	// learning them needs the reference.
	RegimeImitate = "imitate"
)

// Meta keys the skills task writes besides the rubric's (rewards.Meta*).
const (
	// MetaRegime is the kind's regime (RegimeExplore or RegimeImitate).
	MetaRegime = "regime"
	// MetaLevel is the kind's difficulty level (1 = easiest).
	MetaLevel = "level"
)

// Kind is one request kind of the skills task. Its difficulty knob (Knob,
// e.g. "operand digits") takes the levels 1..Levels; the train, dev and
// eval splits use one level per kind (Default unless set or calibrated),
// and the pre-training corpus draws every level, so one base model serves
// every placement.
type Kind struct {
	Name    string `json:"name"`
	Regime  string `json:"regime"`
	Summary string `json:"summary"`
	Knob    string `json:"knob,omitempty"`
	Levels  int    `json:"levels"`
	Default int    `json:"default_level"`
	// Setting renders what a level means ("2 digits").
	Setting func(level int) string `json:"-"`
	gen     kindGen
}

// kindGen draws one sample of a kind at a level for a split. Only the
// imitate kinds look at the split (their templates differ by split) and
// at env (their invented facts).
type kindGen func(r *rand.Rand, level int, sp split, env *kindEnv) sample

type split int

const (
	splitTrain split = iota
	splitDev
	splitEval
	splitCorpus
)

func (s split) String() string {
	return [...]string{"train", "dev", "eval", "corpus"}[s]
}

// kindEnv is what a task's kinds share: the invented facts of its seed.
type kindEnv struct {
	facts []invented
}

var kinds = []Kind{
	{Name: "compare", Regime: RegimeExplore, Summary: "which of two numbers is larger / smaller",
		Knob: "digits", Levels: 4, Default: 2, Setting: plural("digit"), gen: genCompare},
	{Name: "first-letter", Regime: RegimeExplore, Summary: "the first letter of a made-up word",
		Knob: "word length", Levels: 8, Default: 3, Setting: offsetPlural(2, "letter"), gen: genFirstLetter},
	{Name: "last-letter", Regime: RegimeExplore, Summary: "the last letter of a made-up word",
		Knob: "word length", Levels: 8, Default: 3, Setting: offsetPlural(2, "letter"), gen: genLastLetter},
	{Name: "repeat", Regime: RegimeExplore, Summary: "repeat a made-up word",
		Knob: "word length", Levels: 8, Default: 3, Setting: offsetPlural(2, "letter"), gen: genRepeat},
	{Name: "count", Regime: RegimeExplore, Summary: "count the letters of a made-up word",
		Knob: "word length", Levels: 8, Default: 2, Setting: offsetPlural(2, "letter"), gen: genCount},
	{Name: "add", Regime: RegimeExplore, Summary: "add two numbers",
		Knob: "digits", Levels: 3, Default: 1, Setting: plural("digit"), gen: genAdd},
	{Name: "reverse", Regime: RegimeExplore, Summary: "reverse a made-up word",
		Knob: "word length", Levels: 6, Default: 2, Setting: offsetPlural(1, "letter"), gen: genReverse},
	{Name: "sort", Regime: RegimeExplore, Summary: "sort a list of numbers below 100",
		Knob: "list length", Levels: 4, Default: 2, Setting: offsetPlural(1, "number"), gen: genSort},
	{Name: "capital", Regime: RegimeImitate, Summary: "capitals of invented countries, known only from the references",
		Levels: 1, Default: 1, Setting: inventedSetting, gen: genCapital},
	{Name: "currency", Regime: RegimeImitate, Summary: "currencies of invented countries, known only from the references",
		Levels: 1, Default: 1, Setting: inventedSetting, gen: genCurrency},
}

func inventedSetting(int) string { return fmt.Sprintf("%d invented countries", inventedCount) }

func plural(unit string) func(int) string {
	return offsetPlural(0, unit)
}

func offsetPlural(off int, unit string) func(int) string {
	return func(l int) string {
		n := l + off
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
}

// Kinds lists the skills task's kinds in their canonical order.
func Kinds() []Kind { return slices.Clone(kinds) }

// KindNames lists the kind names in canonical order.
func KindNames() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.Name
	}
	return out
}

// LookupKind finds a kind by name.
func LookupKind(name string) (Kind, bool) {
	for _, k := range kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// CheckKinds validates a kind selection and explicit levels (as a sweep
// gives them) and returns one message per problem.
func CheckKinds(names []string, levels map[string]int) []string {
	var errs []string
	seen := map[string]bool{}
	for _, n := range names {
		if _, ok := LookupKind(n); !ok {
			errs = append(errs, fmt.Sprintf("unknown kind %q (have %s)", n, strings.Join(KindNames(), ", ")))
		}
		if seen[n] {
			errs = append(errs, fmt.Sprintf("kind %q is listed twice", n))
		}
		seen[n] = true
	}
	for _, n := range sortedKindKeys(levels) {
		k, ok := LookupKind(n)
		switch {
		case !ok:
			errs = append(errs, fmt.Sprintf("levels: unknown kind %q (have %s)", n, strings.Join(KindNames(), ", ")))
		case len(names) > 0 && !seen[n]:
			errs = append(errs, fmt.Sprintf("levels: kind %q is not among the task's kinds", n))
		case levels[n] < 1 || levels[n] > k.Levels:
			errs = append(errs, fmt.Sprintf("levels: %s must be 1–%d (%s), got %d", n, k.Levels, k.Knob, levels[n]))
		}
	}
	return errs
}

func sortedKindKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
