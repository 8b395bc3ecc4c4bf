package tasks

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/rewards"
)

// Skills is the name of the calibrated benchmark: a mix of kinds (Kinds),
// each with a difficulty knob, in two regimes (explore and imitate).
const Skills = "skills"

// Default split sizes of the skills task, per kind: every kind gets the
// same number of eval prompts, so per-kind tables compare like with like.
const (
	skillsTrainPerKind  = 500
	skillsEvalPerKind   = 32
	skillsCorpusPerKind = 1000
)

// Streams of the skills task: each kind and split draws from its own
// stream (keyed by the kind's name), so adding a kind or changing one
// kind's level leaves every other kind's examples unchanged.
func kindStream(kind string, sp split) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "skills/%s/%s", kind, sp)
	return h.Sum64()
}

// LevelsOf returns the level each kind of a skills task uses: its
// Default unless levels sets it.
func LevelsOf(kindNames []string, levels map[string]int) map[string]int {
	out := map[string]int{}
	for _, n := range kindNames {
		if k, ok := LookupKind(n); ok {
			out[n] = k.Default
			if l, ok := levels[n]; ok {
				out[n] = l
			}
		}
	}
	return out
}

// buildSkills generates the skills task. Sizes are totals, split evenly
// over the kinds (rounded up); eval and dev are interleaved kind by kind,
// so a prefix of either stays balanced.
func buildSkills(c config, seed uint64) (*task, error) {
	names := c.kinds
	if len(names) == 0 {
		names = KindNames()
	}
	if errs := CheckKinds(names, c.levels); len(errs) > 0 {
		return nil, fmt.Errorf("task %s: %s", Skills, errs[0])
	}
	// Canonical order, whatever order the selection was given in.
	slices.SortStableFunc(names, func(a, b string) int {
		return slices.Index(KindNames(), a) - slices.Index(KindNames(), b)
	})
	levels := LevelsOf(names, c.levels)
	per := func(total int) int { return (total + len(names) - 1) / len(names) }
	nTrain, nEval, nDev, nCorpus := skillsTrainPerKind, skillsEvalPerKind, 0, skillsCorpusPerKind
	if c.sizesSet {
		nTrain, nEval = per(c.train), per(c.eval)
	}
	if c.dev > 0 {
		nDev = per(c.dev)
	}
	if c.corpusSet {
		nCorpus = per(c.corpus)
	}
	env := &kindEnv{facts: inventFacts(rand.New(rand.NewPCG(seed, kindStream("invented", splitTrain))), inventedCount)}

	t := &task{name: Skills}
	// Eval and dev prompts of every level are drawn (each level from its
	// own stream) and kept out of train and the corpus, so the corpus, and
	// the base model, is the same whichever levels the splits use.
	taken := map[string]bool{}
	var evals, devs [][]core.Example
	for _, n := range names {
		k, _ := LookupKind(n)
		for l := 1; l <= k.Levels; l++ {
			ev, err := drawUnique(k, l, splitEval, nEval, seed, env, taken)
			if err != nil {
				return nil, err
			}
			dv, err := drawUnique(k, l, splitDev, nDev, seed, env, taken)
			if err != nil {
				return nil, err
			}
			if l == levels[n] {
				evals, devs = append(evals, ev), append(devs, dv)
			}
		}
	}
	for _, n := range names {
		k, _ := LookupKind(n)
		r := rand.New(rand.NewPCG(seed, kindStream(n, splitTrain)^uint64(levels[n])))
		for tries, got := 0, 0; got < nTrain; tries++ {
			if tries > 50*nTrain+1000 {
				return nil, fmt.Errorf("task %s: the eval and dev splits leave kind %s too few train prompts", Skills, n)
			}
			s := k.gen(r, levels[n], splitTrain, env)
			if taken[Prompt(s.request)] {
				continue
			}
			t.train = append(t.train, skillsExample(s))
			got++
		}
	}
	rand.New(rand.NewPCG(seed, streamTrain)).Shuffle(len(t.train), func(i, j int) { t.train[i], t.train[j] = t.train[j], t.train[i] })
	t.eval, t.dev = interleave(evals), interleave(devs)

	// The corpus draws kinds uniformly and every level of each, so the
	// base model does not depend on the levels the splits use.
	r := rand.New(rand.NewPCG(seed, streamCorpus))
	for tries := 0; len(t.corpus) < nCorpus*len(names); tries++ {
		if tries > 50*nCorpus*len(names)+1000 {
			return nil, fmt.Errorf("task %s: the eval and dev splits leave too few prompts for the corpus", Skills)
		}
		k, _ := LookupKind(pick(r, names))
		s := k.gen(r, 1+r.IntN(k.Levels), splitCorpus, env)
		p := Prompt(s.request)
		if taken[p] {
			continue
		}
		t.corpus = append(t.corpus, p+answer(c.corpusAnswer(r, s)))
	}
	scorer := rewards.AnswerRubric()
	judge, err := rewards.NewJudge(scorer, c.margin)
	if err != nil {
		return nil, err
	}
	t.judge, t.scorer, t.dense = judge, scorer, rewards.PartialAnswerRubric("")
	t.kinds, t.levels = names, levels
	return t, nil
}

// drawUnique draws want distinct prompts of kind k at a level for a split,
// none of them already taken, and marks them taken.
func drawUnique(k Kind, level int, sp split, want int, seed uint64, env *kindEnv, taken map[string]bool) ([]core.Example, error) {
	r := rand.New(rand.NewPCG(seed, kindStream(k.Name, sp)^uint64(level)))
	var out []core.Example
	for tries := 0; len(out) < want; tries++ {
		if tries > 50*want+1000 {
			return nil, fmt.Errorf("task %s: kind %s has only %d distinct %s prompts at level %d, %d asked (lower the %s size)",
				Skills, k.Name, len(out), sp, level, want, sp)
		}
		s := k.gen(r, level, sp, env)
		p := Prompt(s.request)
		if taken[p] {
			continue
		}
		taken[p] = true
		out = append(out, skillsExample(s))
	}
	return out, nil
}

// skillsExample: the reference is always the padded answer (see
// RegimeExplore), the rejected one the bad answer.
func skillsExample(s sample) core.Example {
	return core.Example{Prompt: Prompt(s.request), Chosen: answer(s.fair), Rejected: answer(s.bad), Meta: s.meta}
}

// interleave takes one example of each kind in turn.
func interleave(groups [][]core.Example) []core.Example {
	var out []core.Example
	for i := 0; ; i++ {
		added := false
		for _, g := range groups {
			if i < len(g) {
				out = append(out, g[i])
				added = true
			}
		}
		if !added {
			return out
		}
	}
}
