package tasks

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/rewards"
)

// Every kind at every level: the bare answer never loses to the padded
// reference and usually beats it (so the reference is beatable), and the
// reference always beats the bad answer.
func TestSkillsQualityOrder(t *testing.T) {
	judge, _ := rewards.NewJudge(rewards.AnswerRubric(), rewards.DefaultTieMargin)
	env := &kindEnv{facts: inventFacts(rand.New(rand.NewPCG(1, 1)), inventedCount)}
	for _, k := range Kinds() {
		for level := 1; level <= k.Levels; level++ {
			for _, sp := range []split{splitTrain, splitEval, splitCorpus} {
				r := rand.New(rand.NewPCG(uint64(level), uint64(sp)))
				var gf, fb []core.RewardItem
				for range 300 {
					s := k.gen(r, level, sp, env)
					p := Prompt(s.request)
					gf = append(gf, core.RewardItem{Prompt: p, Completion: answer(s.good), Reference: answer(s.fair), Meta: s.meta})
					fb = append(fb, core.RewardItem{Prompt: p, Completion: answer(s.fair), Reference: answer(s.bad), Meta: s.meta})
				}
				sg, err := judge.Score(context.Background(), gf)
				if err != nil {
					t.Fatal(err)
				}
				sf, _ := judge.Score(context.Background(), fb)
				wins := 0
				for i := range sg {
					if !sg[i].Applicable || sg[i].Value < 0 {
						t.Fatalf("%s/%d/%s: good does not beat fair: %q vs %q (%s)", k.Name, level, sp, gf[i].Completion, gf[i].Reference, sg[i].Info)
					}
					if sg[i].Value > 0 {
						wins++
					}
					if sf[i].Value != 1 {
						t.Fatalf("%s/%d/%s: fair does not beat bad: %q vs %q in %q (%s)", k.Name, level, sp, fb[i].Completion, fb[i].Reference, fb[i].Prompt, sf[i].Info)
					}
				}
				if rate := float64(wins) / float64(len(sg)); rate < 0.95 {
					t.Errorf("%s/%d/%s: the bare answer beats the padded reference only %.2f of the time", k.Name, level, sp, rate)
				}
			}
		}
	}
}

func TestSkillsSplits(t *testing.T) {
	tk := mustGet(t, Skills, 1, WithDevSize(10*len(Kinds())))
	sk := tk.(*task)
	if len(sk.kinds) != len(Kinds()) {
		t.Fatalf("default kinds %v", sk.kinds)
	}
	perKind := func(exs []core.Example) map[string]int {
		m := map[string]int{}
		for _, ex := range exs {
			m[ex.Meta[rewards.MetaKind].(string)]++
		}
		return m
	}
	for kind, n := range perKind(tk.Eval()) {
		if n != skillsEvalPerKind {
			t.Errorf("eval: %d prompts of %s, want %d", n, kind, skillsEvalPerKind)
		}
	}
	for kind, n := range perKind(sk.Dev()) {
		if n != 10 {
			t.Errorf("dev: %d prompts of %s, want 10", n, kind)
		}
	}
	// Interleaved: the first len(kinds) eval prompts are one of each kind.
	if got := perKind(tk.Eval()[:len(Kinds())]); len(got) != len(Kinds()) {
		t.Errorf("eval prefix is not balanced: %v", got)
	}
	seen := map[string]string{}
	for name, exs := range map[string][]core.Example{"eval": tk.Eval(), "dev": sk.Dev(), "train": tk.Train()} {
		for _, ex := range exs {
			if prev, ok := seen[ex.Prompt]; ok && (prev != name || name != "train") {
				t.Fatalf("prompt %q in %s and %s", ex.Prompt, prev, name)
			}
			seen[ex.Prompt] = name
			if ex.Meta[MetaLevel] != LevelsOf([]string{ex.Meta[rewards.MetaKind].(string)}, nil)[ex.Meta[rewards.MetaKind].(string)] {
				t.Fatalf("%s example at level %v, want the kind's default", name, ex.Meta[MetaLevel])
			}
		}
	}
	// No eval or dev prompt in the corpus, and no invented country: the
	// invented facts exist only in the splits. (An invented capital may
	// coincide with a made-up word of an explore kind; without its country
	// it teaches nothing.)
	facts := sk.facts()
	if len(facts) != 2*inventedCount {
		t.Fatalf("%d invented facts, want %d", len(facts), 2*inventedCount)
	}
	for _, doc := range tk.Corpus() {
		p := doc[:strings.Index(doc, assistantSuffix)+len(assistantSuffix)]
		if s := seen[p]; s == "eval" || s == "dev" {
			t.Fatalf("%s prompt in the corpus: %q", s, doc)
		}
		for _, f := range facts {
			if strings.Contains(doc, f.country) {
				t.Fatalf("invented country %v in the corpus: %q", f, doc)
			}
		}
	}
}

type factPair struct{ country, answer string }

// facts returns the task's invented facts, read back from its examples.
func (t *task) facts() []factPair {
	var out []factPair
	seen := map[string]bool{}
	for _, ex := range append(t.Train(), t.Eval()...) {
		if ex.Meta[MetaRegime] != RegimeImitate {
			continue
		}
		ans := ex.Meta[rewards.MetaAnswer].(string)
		if !seen[ans] {
			seen[ans] = true
			out = append(out, factPair{factCountry(ex.Prompt), ans})
		}
	}
	return out
}

// factCountry finds the invented country in an imitate prompt: the one
// capitalised word after the question's first word.
func factCountry(prompt string) string {
	req, _ := Request(prompt)
	for _, w := range strings.Fields(req)[1:] {
		w = strings.TrimRight(w, "?.")
		if w != "" && w[0] >= 'A' && w[0] <= 'Z' {
			return w
		}
	}
	return ""
}

// Imitate prompts use disjoint templates per split, and every eval fact is
// one the train split teaches.
func TestSkillsFactTemplates(t *testing.T) {
	for _, attr := range []attribute{capitalAttr, currencyAttr} {
		testFactTemplates(t, attr)
	}
}

func testFactTemplates(t *testing.T, attr attribute) {
	tk := mustGet(t, Skills, 3, WithKinds(attr.kind), WithDevSize(inventedCount))
	uses := func(ex core.Example, sp split) bool {
		req, _ := Request(ex.Prompt)
		for _, tpl := range attr.templates[sp] {
			if fmt.Sprintf(tpl, factCountry(ex.Prompt)) == req {
				return true
			}
		}
		return false
	}
	train := map[string]bool{}
	for _, ex := range tk.Train() {
		train[ex.Meta[rewards.MetaAnswer].(string)] = true
		if !uses(ex, splitTrain) {
			t.Fatalf("train prompt %q does not use a train template", ex.Prompt)
		}
	}
	for _, ex := range tk.(*task).Dev() {
		if !uses(ex, splitDev) {
			t.Fatalf("dev prompt %q does not use the dev template", ex.Prompt)
		}
	}
	if len(tk.Eval()) != 2*inventedCount {
		t.Errorf("%d eval prompts, want %d (every fact under both eval templates)", len(tk.Eval()), 2*inventedCount)
	}
	for _, ex := range tk.Eval() {
		if !uses(ex, splitEval) {
			t.Fatalf("eval prompt %q does not use an eval template", ex.Prompt)
		}
		if !train[ex.Meta[rewards.MetaAnswer].(string)] {
			t.Errorf("eval fact %q is never taught in train", ex.Meta[rewards.MetaAnswer])
		}
		if ex.Meta[MetaRegime] != RegimeImitate || ex.Meta[rewards.MetaPartial] != rewards.PartialNone {
			t.Errorf("fact meta %v", ex.Meta)
		}
	}
}

// The corpus, hence the base model, does not depend on the levels; each
// kind's examples do not depend on the other kinds' levels.
func TestSkillsLevelsIndependence(t *testing.T) {
	a := mustGet(t, Skills, 5, WithSizes(900, 90))
	b := mustGet(t, Skills, 5, WithSizes(900, 90), WithLevels(map[string]int{"repeat": 6, "count": 1}))
	if !reflect.DeepEqual(a.Corpus(), b.Corpus()) {
		t.Error("the corpus changed with the levels")
	}
	byKind := func(exs []core.Example, kind string) []core.Example {
		var out []core.Example
		for _, ex := range exs {
			if ex.Meta[rewards.MetaKind] == kind {
				out = append(out, ex)
			}
		}
		return out
	}
	if !reflect.DeepEqual(byKind(a.Eval(), "compare"), byKind(b.Eval(), "compare")) {
		t.Error("compare's eval split changed when other kinds' levels changed")
	}
	if reflect.DeepEqual(byKind(a.Eval(), "repeat"), byKind(b.Eval(), "repeat")) {
		t.Error("repeat's eval split did not change with its level")
	}
	for _, ex := range byKind(b.Train(), "repeat") {
		if ex.Meta[MetaLevel] != 6 || len(ex.Meta[rewards.MetaAnswer].(string)) != 8 {
			t.Fatalf("repeat at level 6 should ask for 8-letter words: %+v", ex)
		}
	}
	// A single-kind task has the same examples of that kind as the mix.
	c := mustGet(t, Skills, 5, WithSizes(90, 9), WithKinds("repeat"))
	if !reflect.DeepEqual(byKind(c.Eval(), "repeat"), byKind(a.Eval(), "repeat")) {
		t.Error("repeat's eval split depends on which other kinds are mixed in")
	}
}

func TestSkillsOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		opts []Option
		want string
	}{
		{[]Option{WithKinds("nope")}, `unknown kind "nope"`},
		{[]Option{WithKinds("add", "add")}, "listed twice"},
		{[]Option{WithLevels(map[string]int{"add": 9})}, "add must be 1–3"},
		{[]Option{WithKinds("add"), WithLevels(map[string]int{"repeat": 1})}, "not among the task's kinds"},
		{[]Option{WithKinds("capital"), WithSizes(10, 60)}, "distinct eval prompts"},
	} {
		_, err := Get(Skills, 1, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.opts, err, tc.want)
		}
	}
	if _, err := Get("arith", 1, WithKinds("add")); err == nil || !strings.Contains(err.Error(), "skills task only") {
		t.Errorf("kinds on arith: %v", err)
	}
}

// Dense scorers exist where the rubric grades answers, and R(y, y) = 0.
func TestDenseScorers(t *testing.T) {
	for name, want := range map[string]bool{"arith": true, "hh-helpful": true, "hh-harmless": false, Skills: true} {
		tk := mustGet(t, name, 1, small...)
		ds := tk.(DenseScorer).DenseScorer()
		if (ds != nil) != want {
			t.Errorf("%s: dense scorer %v, want one: %v", name, ds, want)
			continue
		}
		if ds == nil {
			continue
		}
		r, err := rewards.Scalar(ds, 1, 0, true)
		if err != nil {
			t.Fatal(err)
		}
		var items []core.RewardItem
		for _, ex := range tk.Eval()[:50] {
			items = append(items, core.RewardItem{Prompt: ex.Prompt, Completion: ex.Chosen, Reference: ex.Chosen, Meta: ex.Meta})
		}
		sc, err := r.Score(context.Background(), items)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range sc {
			if !s.Applicable || s.Value != 0 {
				t.Fatalf("%s: R(y, y) = %v (%s) for %q", name, s.Value, s.Info, items[i].Completion)
			}
		}
	}
}

// A dev split leaves eval unchanged and shares no prompt with train or
// eval (built-in tasks; the skills task is checked in TestSkillsSplits).
func TestDevSplit(t *testing.T) {
	for _, name := range []string{"arith", "hh-helpful", "hh-harmless"} {
		a := mustGet(t, name, 1, small...)
		b := mustGet(t, name, 1, append([]Option{WithDevSize(40)}, small...)...)
		if !reflect.DeepEqual(a.Eval(), b.Eval()) {
			t.Errorf("%s: eval changed with a dev split", name)
		}
		dev := b.(Dever).Dev()
		if len(dev) != 40 || len(a.(Dever).Dev()) != 0 {
			t.Fatalf("%s: dev sizes %d and %d", name, len(dev), len(a.(Dever).Dev()))
		}
		held := map[string]bool{}
		for _, ex := range append(b.Eval(), dev...) {
			if held[ex.Prompt] {
				t.Fatalf("%s: prompt %q twice in eval+dev", name, ex.Prompt)
			}
			held[ex.Prompt] = true
		}
		for _, ex := range b.Train() {
			if held[ex.Prompt] {
				t.Fatalf("%s: held-out prompt %q in train", name, ex.Prompt)
			}
		}
	}
}
