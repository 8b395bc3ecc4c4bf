package tasks

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/rewards"
	"github.com/grao-lab/grao/rewards/rewardtest"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// small keeps most tests fast; the judge and length tests use the
// defaults, which is what users get.
var small = []Option{WithSizes(300, 100), WithCorpusSize(500)}

func mustGet(t testing.TB, name string, seed uint64, opts ...Option) core.Task {
	t.Helper()
	tk, err := Get(name, seed, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestDeterministic(t *testing.T) {
	for _, name := range Names() {
		a, b := mustGet(t, name, 7, small...), mustGet(t, name, 7, small...)
		if !reflect.DeepEqual(a.Train(), b.Train()) || !reflect.DeepEqual(a.Eval(), b.Eval()) || !reflect.DeepEqual(a.Corpus(), b.Corpus()) {
			t.Errorf("%s: same seed gave different data", name)
		}
		c := mustGet(t, name, 8, small...)
		if reflect.DeepEqual(a.Eval(), c.Eval()) {
			t.Errorf("%s: seeds 7 and 8 gave the same eval split", name)
		}
		// The eval split does not depend on the train size.
		d := mustGet(t, name, 7, WithSizes(50, 100), WithCorpusSize(10))
		if !reflect.DeepEqual(a.Eval(), d.Eval()) {
			t.Errorf("%s: eval split changed with the train size", name)
		}
	}
}

type golden struct {
	Train  []core.Example `json:"train"`
	Eval   []core.Example `json:"eval"`
	Corpus []string       `json:"corpus"`
}

// TestGolden pins the first examples of each task at seed 1 with default
// options. Regenerate with: go test ./experiments/tasks -run Golden -update
func TestGolden(t *testing.T) {
	for _, name := range Names() {
		tk := mustGet(t, name, 1)
		g := golden{Train: tk.Train()[:6], Eval: tk.Eval()[:6], Corpus: tk.Corpus()[:6]}
		got, err := json.MarshalIndent(g, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", name+".golden.json")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: output differs from %s (run with -update if the change is intended)\ngot:\n%s", name, path, got)
		}
	}
}

func TestSplitsAndLengths(t *testing.T) {
	for _, name := range Names() {
		tk := mustGet(t, name, 1)
		train, eval, corpus := tk.Train(), tk.Eval(), tk.Corpus()
		inEval := map[string]bool{}
		for _, ex := range eval {
			if inEval[ex.Prompt] {
				t.Errorf("%s: eval prompt repeated: %q", name, ex.Prompt)
			}
			inEval[ex.Prompt] = true
		}
		for _, ex := range train {
			if inEval[ex.Prompt] {
				t.Errorf("%s: eval prompt in train: %q", name, ex.Prompt)
			}
		}
		for _, doc := range corpus {
			i := strings.Index(doc, assistantSuffix)
			if i < 0 {
				t.Fatalf("%s: corpus document without the prompt format: %q", name, doc)
			}
			if inEval[doc[:i+len(assistantSuffix)]] {
				t.Errorf("%s: eval prompt in corpus: %q", name, doc)
			}
			if len(doc) > MaxDocBytes {
				t.Errorf("%s: corpus document of %d bytes: %q", name, len(doc), doc)
			}
			if !strings.HasPrefix(doc[i+len(assistantSuffix):], " ") {
				t.Errorf("%s: corpus answer does not start with a space: %q", name, doc)
			}
		}
		var maxReq, maxAns, maxDoc int
		for _, ex := range append(train, eval...) {
			req, ok := Request(ex.Prompt)
			if !ok {
				t.Fatalf("%s: bad prompt %q", name, ex.Prompt)
			}
			maxReq = max(maxReq, len(req))
			for _, a := range []string{ex.Chosen, ex.Rejected} {
				if !strings.HasPrefix(a, " ") || strings.HasPrefix(a, "  ") {
					t.Errorf("%s: answer %q must start with exactly one space", name, a)
				}
				maxAns = max(maxAns, len(a)-1)
				maxDoc = max(maxDoc, len(ex.Prompt)+len(a))
			}
			if strings.Contains(ex.Prompt+ex.Chosen+ex.Rejected, "%!") {
				t.Errorf("%s: formatting error in %+v", name, ex)
			}
			if ex.Chosen == ex.Rejected {
				t.Errorf("%s: chosen == rejected: %+v", name, ex)
			}
		}
		if maxReq > MaxRequestBytes || maxAns > MaxAnswerBytes || maxDoc > MaxDocBytes {
			t.Errorf("%s: longest request %d (≤ %d), answer %d (≤ %d), prompt+answer %d (≤ %d)",
				name, maxReq, MaxRequestBytes, maxAns, MaxAnswerBytes, maxDoc, MaxDocBytes)
		}
		t.Logf("%s: train %d, eval %d, corpus %d; longest request %d, answer %d, prompt+answer %d bytes",
			name, len(train), len(eval), len(corpus), maxReq, maxAns, maxDoc)
	}
}

// TestJudgeWinRates is the acceptance number: on both splits the judge
// prefers chosen to rejected essentially always, never the reverse, and
// ties chosen with itself.
func TestJudgeWinRates(t *testing.T) {
	for _, name := range Names() {
		tk := mustGet(t, name, 1)
		// Train is checked on its first 1000 examples to keep the test fast.
		for split, exs := range map[string][]core.Example{"train": tk.Train()[:1000], "eval": tk.Eval()} {
			st, err := MeasureJudge(context.Background(), tk, exs)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s/%s: %+v", name, split, st)
			if st.Applicable != st.N || st.ChosenOverRejected < 0.99 || st.RejectedOverChosen != 0 || st.ChosenTiesItself != 1 {
				t.Errorf("%s/%s: judge stats %+v", name, split, st)
			}
		}
	}
}

// TestChosenIsBeatable: the bare exact answer beats chosen often (chosen
// is padded), so a policy can exceed 50% RAS.
func TestChosenIsBeatable(t *testing.T) {
	for _, name := range []string{"arith", "hh-helpful"} {
		tk := mustGet(t, name, 1)
		var items []core.RewardItem
		for _, ex := range tk.Eval() {
			a, _ := ex.Meta[rewards.MetaAnswer].(string)
			items = append(items, core.RewardItem{Prompt: ex.Prompt, Completion: " " + a, Reference: ex.Chosen, Meta: ex.Meta})
		}
		s, err := tk.Judge().Score(context.Background(), items)
		if err != nil {
			t.Fatal(err)
		}
		win, lose := 0, 0
		for _, x := range s {
			win += int(b2f(x.Value > 0))
			lose += int(b2f(x.Value < 0))
		}
		rate := float64(win) / float64(len(s))
		t.Logf("%s: bare answer beats chosen on %.1f%% of eval", name, 100*rate)
		if rate < 0.5 || lose != 0 {
			t.Errorf("%s: bare answer wins %.3f, loses %d times", name, rate, lose)
		}
	}
}

func TestMixes(t *testing.T) {
	tk := mustGet(t, "hh-harmless", 1)
	harmful := 0
	for _, ex := range tk.Train() {
		if ex.Meta[rewards.MetaHarmful] == true {
			harmful++
		}
	}
	if f := float64(harmful) / float64(len(tk.Train())); f < 0.45 || f > 0.55 {
		t.Errorf("hh-harmless: harmful share %.3f, want ~0.5", f)
	}
	kinds := map[string]int{}
	hp := mustGet(t, "hh-helpful", 1)
	for _, ex := range hp.Train() {
		kinds[ex.Meta[rewards.MetaKind].(string)]++
	}
	t.Logf("hh-helpful kinds: %v", kinds)
	for _, k := range []string{"word-arith", "reverse", "count", "sort", "convert", "capital", "colour", "opposite"} {
		if kinds[k] < len(hp.Train())/30 {
			t.Errorf("hh-helpful: kind %s has only %d examples", k, kinds[k])
		}
	}
}

var arithRe = regexp.MustCompile(`(\d+)([-+*])(\d+)`)

// arithCorrect recomputes an arith corpus document's answer from its prompt.
func arithCorrect(t *testing.T, doc string) bool {
	m := arithRe.FindStringSubmatch(doc)
	if m == nil {
		t.Fatalf("no expression in %q", doc)
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[3])
	want := apply(m[2], a, b)
	resp := doc[strings.Index(doc, assistantSuffix)+len(assistantSuffix):]
	s, err := rewards.ArithRubric().Score(context.Background(), []core.RewardItem{{
		Prompt: doc[:len(doc)-len(resp)], Completion: resp, Meta: map[string]any{rewards.MetaAnswer: strconv.Itoa(want)}}})
	if err != nil {
		t.Fatal(err)
	}
	return s[0].Value >= 0.6
}

// TestCorpusMix checks the documented proportions on arith, where the
// correctness of a document can be recomputed independently.
func TestCorpusMix(t *testing.T) {
	for _, c := range []struct {
		opts    []Option
		correct float64 // expected share of correct answers (good + fair)
	}{
		{nil, 0.7},
		{[]Option{WithCorpusMix(0, 0, 1)}, 0},
		{[]Option{WithCorpusMix(1, 1, 0)}, 1},
	} {
		opts := append([]Option{WithSizes(10, 10), WithCorpusSize(4000)}, c.opts...)
		tk := mustGet(t, "arith", 3, opts...)
		ok := 0
		for _, doc := range tk.Corpus() {
			if arithCorrect(t, doc) {
				ok++
			}
		}
		got := float64(ok) / float64(len(tk.Corpus()))
		if got < c.correct-0.03 || got > c.correct+0.03 {
			t.Errorf("corpus correct share %.3f, want %.2f ± 0.03", got, c.correct)
		}
	}
}

func TestDigits(t *testing.T) {
	maxOperand := func(tk core.Task) int {
		m := 0
		for _, ex := range tk.Train() {
			for _, s := range arithRe.FindStringSubmatch(ex.Prompt)[1:] {
				if v, err := strconv.Atoi(s); err == nil {
					m = max(m, v)
				}
			}
		}
		return m
	}
	if m := maxOperand(mustGet(t, "arith", 1, WithDigits(1), WithSizes(500, 50))); m > 9 {
		t.Errorf("digits=1: operand %d", m)
	}
	if m := maxOperand(mustGet(t, "arith", 1, WithDigits(3), WithSizes(500, 50))); m < 100 {
		t.Errorf("digits=3: largest operand %d", m)
	}
}

func TestOptionErrors(t *testing.T) {
	cases := []struct {
		name string
		opts []Option
		want string
	}{
		{"hh-helpful", []Option{WithDigits(2)}, "arith only"},
		{"arith", []Option{WithDigits(5)}, "digits must be 1–4"},
		{"arith", []Option{WithEvalFraction(0.2)}, "JSONL"},
		{"arith", []Option{WithSizes(0, 5)}, "≥ 1"},
		{"arith", []Option{WithDigits(1), WithSizes(10, 600)}, "distinct eval prompts"},
		{"arith", []Option{WithCorpusMix(0, 0, 0)}, "sum to 0"},
		{"arith", []Option{WithTieMargin(-1)}, "tie margin"},
		{"nope", nil, "unknown task"},
	}
	for _, c := range cases {
		_, err := Get(c.name, 1, c.opts...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Get(%s): error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

// TestRewardConformance runs every task's judge and scorer through the
// conformance suite on real items.
func TestRewardConformance(t *testing.T) {
	for _, name := range Names() {
		tk := mustGet(t, name, 1, small...)
		var items []core.RewardItem
		for _, ex := range tk.Eval()[:40] {
			items = append(items,
				core.RewardItem{Prompt: ex.Prompt, Completion: ex.Chosen, Reference: ex.Rejected, Meta: ex.Meta},
				core.RewardItem{Prompt: ex.Prompt, Completion: ex.Rejected, Reference: ex.Chosen, Meta: ex.Meta})
		}
		for _, r := range []core.Reward{tk.Judge(), tk.Scorer()} {
			t.Run(name+"/"+r.Describe().Name, func(t *testing.T) { rewardtest.Run(t, r, items) })
		}
	}
}

func TestOpen(t *testing.T) {
	if tk, err := Open("arith", 1, small...); err != nil || tk.Name() != "arith" {
		t.Fatalf("Open(arith) = %v, %v", tk, err)
	}
	if _, err := Open("no-such-task", 1); err == nil || !strings.Contains(err.Error(), "unknown task") {
		t.Errorf("Open(unknown) error %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.jsonl"), 1); err == nil {
		t.Error("Open(missing file) succeeded")
	}
}

func TestPromptRoundTrip(t *testing.T) {
	for _, req := range []string{"", "37+48=?", "line\nbreak"} {
		got, ok := Request(Prompt(req))
		if !ok || got != req {
			t.Errorf("Request(Prompt(%q)) = %q, %t", req, got, ok)
		}
	}
	for _, bad := range []string{"", "Human: x", "x\nAssistant:", "Human:\nAssistant:"} {
		if _, ok := Request(bad); ok {
			t.Errorf("Request(%q) accepted", bad)
		}
	}
}

func ExampleGet() {
	task, err := Get("arith", 1, WithSizes(3, 2))
	if err != nil {
		panic(err)
	}
	ex := task.Train()[0]
	fmt.Printf("%q -> %q (rejected %q, answer %v)\n", ex.Prompt, ex.Chosen, ex.Rejected, ex.Meta["answer"])
	fmt.Println(task.Judge().Describe().Name)
	// Output:
	// "Human: What is 6+7?\nAssistant:" -> " 6+7 is 13." (rejected " 3", answer 13)
	// judge(rubric/arith,margin=0.05)
}

// TestQualityOrder checks each generator's three answers against its own
// rubric on fresh samples: good never loses to fair and usually beats it
// (that is what makes chosen beatable), fair always beats bad.
func TestQualityOrder(t *testing.T) {
	for _, name := range Names() {
		sp, ok := builtins[name]
		if !ok {
			continue // skills: TestSkillsQualityOrder, per kind and level
		}
		c, _ := newConfig(nil)
		r := rand.New(rand.NewPCG(99, 99))
		judge, _ := rewards.NewJudge(sp.scorer(), rewards.DefaultTieMargin)
		var gf, fb []core.RewardItem
		for range 2000 {
			s := sp.gen(r, &c)
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
			if sg[i].Value < 0 {
				t.Errorf("%s: good loses to fair: %q vs %q (%s)", name, gf[i].Completion, gf[i].Reference, sg[i].Info)
			}
			if sg[i].Value == 0 && testing.Verbose() {
				t.Logf("tie: %q vs %q (%s)", gf[i].Completion, gf[i].Reference, sg[i].Info)
			}
			if sg[i].Value > 0 {
				wins++
			}
			if sf[i].Value != 1 {
				t.Errorf("%s: fair does not beat bad: %q vs %q (%s)", name, fb[i].Completion, fb[i].Reference, sf[i].Info)
			}
		}
		rate := float64(wins) / float64(len(sg))
		t.Logf("%s: good beats fair on %.1f%% of samples", name, 100*rate)
		if rate < 0.9 {
			t.Errorf("%s: good beats fair only %.3f of the time", name, rate)
		}
	}
}
