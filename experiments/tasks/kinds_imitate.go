package tasks

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/grao-lab/grao/rewards"
)

// The imitate kinds, "capital" and "currency": attributes of invented
// countries. The countries and their attributes are drawn from the task's
// seed and appear only in the train, dev and eval splits; the
// pre-training corpus asks the same questions about real countries, so a
// base model knows the format and answers with a real capital or currency
// (wrong) or a guess. Each split has its own question templates, so an
// eval prompt is never a train prompt: a policy must have learned the
// fact, not the string.

// inventedCount is the number of invented countries per seed; with two
// eval templates it bounds each imitate kind's eval split at 32 prompts,
// and with one dev template its dev split at 16.
const inventedCount = 16

// invented is one invented country with its attributes.
type invented struct{ country, capital, currency string }

// attribute is one imitate kind: which attribute it asks for, its
// templates per split, and the real pairs the corpus uses instead.
type attribute struct {
	kind      string
	templates map[split][]string
	fair      []string // "%[1]s" the country, "%[2]s" the answer
	real      []fact
	of        func(invented) string
}

var capitalAttr = attribute{
	kind: "capital",
	templates: map[split][]string{
		splitTrain: {"What is the capital of %s?", "Name the capital of %s."},
		splitDev:   {"Tell me the capital of %s."},
		splitEval:  {"What's the capital of %s?", "Which city is the capital of %s?"},
	},
	fair: []string{"The capital of %s is %s.", "It is %[2]s.", "%[2]s is the capital."},
	real: capitals,
	of:   func(f invented) string { return f.capital },
}

var currencyAttr = attribute{
	kind: "currency",
	templates: map[split][]string{
		splitTrain: {"What is the currency of %s?", "Name the currency of %s."},
		splitDev:   {"Tell me the currency of %s."},
		splitEval:  {"What's the currency of %s?", "Which currency does %s use?"},
	},
	fair: []string{"The currency of %s is the %s.", "It is the %[2]s.", "They pay in %[2]s."},
	real: currencies,
	of:   func(f invented) string { return f.currency },
}

// currencies are the corpus's real pairs for the currency kind.
var currencies = []fact{
	{"France", "euro"}, {"Japan", "yen"}, {"Mexico", "peso"}, {"Russia", "rouble"}, {"Thailand", "baht"},
	{"Sweden", "krona"}, {"Poland", "zloty"}, {"Hungary", "forint"}, {"India", "rupee"}, {"China", "yuan"},
	{"Peru", "sol"}, {"Brazil", "real"}, {"Israel", "shekel"}, {"Turkey", "lira"}, {"Kenya", "shilling"},
	{"Egypt", "pound"}, {"Denmark", "krone"}, {"Korea", "won"}, {"Vietnam", "dong"}, {"Switzerland", "franc"},
	{"Canada", "dollar"}, {"Ghana", "cedi"}, {"Nigeria", "naira"}, {"Ukraine", "hryvnia"},
}

var countrySuffixes = []string{"land", "ia", "stan", "mark", "ora"}

// inventFacts draws n distinct invented countries with a capital and a
// currency each, none equal to a real name of the corpus.
func inventFacts(r *rand.Rand, n int) []invented {
	used := map[string]bool{}
	for _, c := range slices.Concat(capitals, currencies) {
		used[strings.ToLower(c.subject)], used[strings.ToLower(c.answer)] = true, true
	}
	fresh := func(draw func() string) string {
		for {
			w := draw()
			if !used[w] {
				used[w] = true
				return w
			}
		}
	}
	out := make([]invented, n)
	for i := range out {
		out[i].country = capFirst(fresh(func() string { return pseudoWord(r, 3+r.IntN(2)) + pick(r, countrySuffixes) }))
		out[i].capital = capFirst(fresh(func() string { return pseudoWord(r, 5+r.IntN(2)) }))
		out[i].currency = fresh(func() string { return pseudoWord(r, 4+r.IntN(2)) })
	}
	return out
}

func genCapital(r *rand.Rand, level int, sp split, env *kindEnv) sample {
	return capitalAttr.gen(r, level, sp, env)
}

func genCurrency(r *rand.Rand, level int, sp split, env *kindEnv) sample {
	return currencyAttr.gen(r, level, sp, env)
}

func (a attribute) gen(r *rand.Rand, level int, sp split, env *kindEnv) sample {
	var subject, ans string
	var pool []string
	templates := a.templates[sp]
	if sp == splitCorpus {
		c := pick(r, a.real)
		subject, ans = c.subject, c.answer
		for _, c := range a.real {
			pool = append(pool, c.answer)
		}
		templates = slices.Concat(a.templates[splitTrain], a.templates[splitDev], a.templates[splitEval])
	} else {
		c := pick(r, env.facts)
		subject, ans = c.country, a.of(c)
		for _, c := range env.facts {
			pool = append(pool, a.of(c))
		}
	}
	req := fmt.Sprintf(pick(r, templates), subject)
	fair := fmt.Sprintf(pick(r, a.fair), subject, ans)
	var ds []string
	for _, d := range pool {
		if d != ans && !slices.Contains(ds, d) {
			ds = append(ds, d)
		}
	}
	// A seeded subset keeps meta small; the wrong answer is one of them.
	r.Shuffle(len(ds), func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
	ds = ds[:min(len(ds), 12)]
	meta := kindMeta(a.kind, RegimeImitate, level, ans, rewards.CheckWord)
	meta[rewards.MetaDistractors] = ds
	meta[rewards.MetaPartial] = rewards.PartialNone
	wrong := fmt.Sprintf(pick(r, []string{"%s", "It is %s.", "I think %s."}), ds[0])
	return withBad(r, sample{request: req, meta: meta, good: ans, fair: fair}, wrong)
}
