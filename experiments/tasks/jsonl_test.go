package tasks

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/rewards"
)

const goodLine = `{"prompt":"Human: hi\nAssistant:","chosen":" Hello!","rejected":" Go away."}`

func TestParseJSONLErrors(t *testing.T) {
	cases := []struct {
		name, data string
		line       int
		reason     string
	}{
		{"empty file", "", 0, "no examples"},
		{"only blank lines", "\n  \n", 0, "no examples"},
		{"not json", goodLine + "\nhello\n", 2, "not JSON"},
		{"array", "[1,2]", 1, "not a JSON object"},
		{"string", `"x"`, 1, "not a JSON object"},
		{"truncated", `{"prompt":"Human: x\nAssistant:"`, 1, "unexpected end of line"},
		{"missing chosen", `{"prompt":"Human: x\nAssistant:","rejected":" b"}`, 1, `missing "chosen"`},
		{"empty rejected", `{"prompt":"Human: x\nAssistant:","chosen":" a","rejected":"  "}`, 1, `"rejected" is empty`},
		{"number prompt", `{"prompt":5,"chosen":" a","rejected":" b"}`, 1, `"prompt" must be a string`},
		{"unknown key", `{"prompt":"Human: x\nAssistant:","chosen":" a","rejected":" b","score":1}`, 1, `unknown key "score"`},
		{"duplicate key", `{"prompt":"Human: x\nAssistant:","chosen":" a","chosen":" c","rejected":" b"}`, 1, `"chosen" appears twice`},
		{"meta not object", `{"prompt":"Human: x\nAssistant:","chosen":" a","rejected":" b","meta":[1]}`, 1, `"meta" must be an object`},
		{"reserved meta", `{"prompt":"Human: x\nAssistant:","chosen":" a","rejected":" b","meta":{"chosen":"z"}}`, 1, `meta key "chosen" is reserved`},
		{"trailing data", goodLine + ` {}`, 1, "extra data"},
		{"identical", `{"prompt":"Human: x\nAssistant:","chosen":" a","rejected":" a"}`, 1, "identical"},
		{"no assistant", `{"prompt":"Human: x","chosen":" a","rejected":" b"}`, 1, `must end with "Assistant:"`},
		{"bad utf8", "{\"prompt\":\"Human: \xff\\nAssistant:\",\"chosen\":\" a\",\"rejected\":\" b\"}", 1, "UTF-8"},
		{"third line", goodLine + "\n\n" + `{"prompt":"Human: x\nAssistant:"}`, 3, `missing "chosen"`},
		{"too long", `{"prompt":"` + strings.Repeat("a", MaxLineBytes) + `"}`, 1, "longer than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseJSONL(strings.NewReader(c.data), "data.jsonl")
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error %v is not a *LineError", err)
			}
			if le.File != "data.jsonl" || le.Line != c.line || !strings.Contains(le.Reason, c.reason) {
				t.Errorf("got %q (line %d), want line %d mentioning %q", err, le.Line, c.line, c.reason)
			}
			if c.line > 0 && !strings.HasPrefix(err.Error(), "data.jsonl:") {
				t.Errorf("message %q does not start with file:line", err)
			}
		})
	}
}

func TestParseJSONLValid(t *testing.T) {
	data := goodLine + "\r\n\n" + `{"meta":{"n":1,"tags":["a"]},"rejected":" no","chosen":" yes","prompt":"\n\nHuman: ok?\n\nAssistant: "}` + "\n" +
		`{"prompt":"Human: x\nAssistant:","chosen":" a","rejected":" b","meta":null}`
	exs, err := ParseJSONL(strings.NewReader(data), "f")
	if err != nil {
		t.Fatal(err)
	}
	want := []core.Example{
		{Prompt: "Human: hi\nAssistant:", Chosen: " Hello!", Rejected: " Go away."},
		{Prompt: "\n\nHuman: ok?\n\nAssistant: ", Chosen: " yes", Rejected: " no", Meta: map[string]any{"n": 1.0, "tags": []any{"a"}}},
		{Prompt: "Human: x\nAssistant:", Chosen: " a", Rejected: " b"},
	}
	if !reflect.DeepEqual(exs, want) {
		t.Errorf("got %#v\nwant %#v", exs, want)
	}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, exs); err != nil {
		t.Fatal(err)
	}
	again, err := ParseJSONL(&buf, "round-trip")
	if err != nil || !reflect.DeepEqual(again, exs) {
		t.Errorf("round trip: %v\n%#v", err, again)
	}
}

func writeFile(t *testing.T, exs []core.Example) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "d.jsonl")
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, exs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFromJSONLSplit(t *testing.T) {
	var exs []core.Example
	words := []string{"apple", "river", "stone", "cloud", "tiger", "lamp", "bread", "music"}
	for i := range 200 {
		w := words[i%len(words)]
		// Every prompt appears twice (i and i+100) so grouping matters.
		exs = append(exs, core.Example{
			Prompt:   Prompt("Tell me about " + w + " number " + string(rune('a'+i%100%26)) + string(rune('a'+i%100/26))),
			Chosen:   " The " + w + " is nice and calm.",
			Rejected: " I will not talk about that " + w + ".",
		})
	}
	p := writeFile(t, exs)
	a, err := FromJSONL(p, 5, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := FromJSONL(p, 5, 0.2)
	c, _ := FromJSONL(p, 6, 0.2)
	if !reflect.DeepEqual(a.Eval(), b.Eval()) || !reflect.DeepEqual(a.Corpus(), b.Corpus()) {
		t.Error("same seed, different split")
	}
	if reflect.DeepEqual(a.Eval(), c.Eval()) {
		t.Error("seeds 5 and 6 gave the same split")
	}
	if n := len(a.Eval()); n != 40 {
		t.Errorf("eval has %d examples, want 40 (20%% of 200, whole prompt groups of 2)", n)
	}
	if len(a.Train())+len(a.Eval()) != 200 || len(a.Corpus()) != 2*len(a.Train()) {
		t.Errorf("sizes: train %d eval %d corpus %d", len(a.Train()), len(a.Eval()), len(a.Corpus()))
	}
	inEval := map[string]bool{}
	for _, ex := range a.Eval() {
		inEval[ex.Prompt] = true
	}
	for _, ex := range a.Train() {
		if inEval[ex.Prompt] {
			t.Fatalf("prompt in both splits: %q", ex.Prompt)
		}
	}
	if got := a.Judge().Describe().Name; !strings.Contains(got, "rubric/overlap") {
		t.Errorf("judge %s, want the overlap rubric", got)
	}
	st, err := MeasureJudge(context.Background(), a, a.Eval())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("overlap judge on a user file: %+v", st)
	if st.ChosenOverRejected != 1 || st.RejectedOverChosen != 0 || st.ChosenTiesItself != 1 {
		t.Errorf("overlap judge stats %+v", st)
	}
	for _, f := range []float64{0, 1, -0.1} {
		if _, err := FromJSONL(p, 1, f); err == nil {
			t.Errorf("eval fraction %v accepted", f)
		}
	}
	one := writeFile(t, exs[:1])
	if _, err := FromJSONL(one, 1, 0.5); err == nil || !strings.Contains(err.Error(), "2 distinct prompts") {
		t.Errorf("single-prompt file: %v", err)
	}
}

// An exported built-in task loads back with its own rubric.
func TestFromJSONLKeepsBuiltinJudge(t *testing.T) {
	tk := mustGet(t, "hh-harmless", 2, small...)
	p := writeFile(t, tk.Eval())
	back, err := Open(p, 1, WithEvalFraction(0.5), WithTieMargin(0.1))
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Judge().Describe().Name; got != "judge(rubric/hh-harmless,margin=0.1)" {
		t.Errorf("judge %s", got)
	}
	if len(back.Train())+len(back.Eval()) != len(tk.Eval()) {
		t.Errorf("lost examples")
	}
}

func FuzzParseJSONL(f *testing.F) {
	f.Add([]byte(goodLine))
	f.Add([]byte(goodLine + "\n" + `{"prompt":"Human: a\nAssistant:","chosen":"x","rejected":"y","meta":{"k":[1,{"z":null}]}}`))
	f.Add([]byte(`{"prompt":"Human: a\nAssistant:","chosen":"x","rejected":"y","meta":{}}` + "\r\n"))
	f.Add([]byte(`{"prompt":1}`))
	f.Add([]byte("{\n}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		exs, err := ParseJSONL(bytes.NewReader(data), "fuzz.jsonl")
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || le.File != "fuzz.jsonl" || le.Reason == "" {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		for _, ex := range exs {
			if strings.TrimSpace(ex.Prompt) == "" || strings.TrimSpace(ex.Chosen) == "" || ex.Chosen == ex.Rejected {
				t.Fatalf("invalid example accepted: %#v", ex)
			}
		}
		var buf bytes.Buffer
		if err := WriteJSONL(&buf, exs); err != nil {
			t.Fatal(err)
		}
		again, err := ParseJSONL(&buf, "again")
		if err != nil {
			t.Fatalf("re-parse of written examples: %v", err)
		}
		if !reflect.DeepEqual(again, exs) {
			t.Fatalf("round trip changed examples:\n%#v\n%#v", exs, again)
		}
	})
}

func TestRewardsUseMeta(t *testing.T) {
	// The overlap rubric reads the pair FromJSONL stores in meta.
	tk, err := fromExamples("x", []core.Example{
		{Prompt: "Human: a\nAssistant:", Chosen: " yes indeed", Rejected: " no way"},
		{Prompt: "Human: b\nAssistant:", Chosen: " sure thing", Rejected: " nope"},
	}, 1, 0.5, config{margin: rewards.DefaultTieMargin})
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range append(tk.Train(), tk.Eval()...) {
		if ex.Meta[rewards.MetaChosen] != ex.Chosen || ex.Meta[rewards.MetaRejected] != ex.Rejected {
			t.Errorf("meta anchors missing: %+v", ex)
		}
	}
}
