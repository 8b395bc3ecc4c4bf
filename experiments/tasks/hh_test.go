package tasks

import (
	"os"
	"strings"
	"testing"
)

// Lines of Anthropic's HH-RLHF as published (two transcripts, no prompt)
// become examples: the prompt is the shared transcript up to the last
// "\n\nAssistant:", earlier turns included, the answers what follows.
func TestHHRLHFTranscripts(t *testing.T) {
	f, err := os.Open("testdata/hh-rlhf-sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	exs, err := ParseJSONL(f, "hh-rlhf-sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 200 {
		t.Fatalf("%d examples, want 200", len(exs))
	}
	multi := 0
	for i, ex := range exs {
		if !strings.HasPrefix(ex.Prompt, "\n\nHuman: ") || !strings.HasSuffix(ex.Prompt, "\n\nAssistant:") {
			t.Fatalf("line %d: prompt %q", i+1, ex.Prompt)
		}
		if strings.Contains(ex.Chosen, "\n\nAssistant:") || strings.Contains(ex.Rejected, "\n\nHuman:") || !strings.HasPrefix(ex.Chosen, " ") {
			t.Fatalf("line %d: answers %q / %q", i+1, ex.Chosen, ex.Rejected)
		}
		if strings.Count(ex.Prompt, "\n\nHuman:") > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Error("no multi-turn prompt in the sample")
	}
	if got := exs[2].Chosen; got != " In short: do it gently and be patient." {
		t.Errorf("line 3 chosen answer %q", got)
	}

	for _, tc := range []struct{ name, line, want string }{
		{"no assistant turn", `{"chosen": "\n\nHuman: hi", "rejected": "\n\nHuman: hi there"}`, `has no "\n\nAssistant:" turn`},
		{"different prompts", `{"chosen": "\n\nHuman: hi\n\nAssistant: hello", "rejected": "\n\nHuman: yo\n\nAssistant: hello"}`, "differ at byte 9"},
		{"rejected has another turn", `{"chosen": "\n\nHuman: hi\n\nAssistant: a", "rejected": "\n\nHuman: hi\n\nAssistant: b\n\nAssistant: c"}`, "differ only after it"},
		{"empty answer", `{"chosen": "\n\nHuman: hi\n\nAssistant:", "rejected": "\n\nHuman: hi\n\nAssistant: b"}`, `"chosen" is empty`},
		{"identical answers", `{"chosen": "\n\nHuman: hi\n\nAssistant: b", "rejected": "\n\nHuman: hi\n\nAssistant: b"}`, "identical"},
	} {
		_, err := ParseJSONL(strings.NewReader(`{"chosen": "\n\nHuman: ok\n\nAssistant: yes", "rejected": "\n\nHuman: ok\n\nAssistant: no"}`+"\n"+tc.line+"\n"), "d.jsonl")
		if err == nil || !strings.Contains(err.Error(), "d.jsonl:2: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want d.jsonl:2 and %q", tc.name, err, tc.want)
		}
	}
}
