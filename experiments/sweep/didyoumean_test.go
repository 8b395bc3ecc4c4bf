package sweep

import (
	"strings"
	"testing"
)

func TestDidYouMean(t *testing.T) {
	known := []string{"steps", "prompts", "lr", "kl_beta", "max_new_tokens"}
	for _, tc := range []struct{ in, want string }{
		{"stesp", "steps"},    // transposition
		{"kl_bta", "kl_beta"}, // deletion
		{"max_new_token", "max_new_tokens"},
		{"LR", "lr"},  // case
		{"zzz", ""},   // nothing close
		{"steps", ""}, // exact: no suggestion
		{"p", ""},     // too far from everything
	} {
		got := didYouMean(tc.in, known)
		if tc.want == "" && got != "" || tc.want != "" && got != ` (did you mean "`+tc.want+`"?)` {
			t.Errorf("didYouMean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Misspellings are named with a suggestion at their line, for sweep keys,
// algorithm names, presets and algorithm parameters.
func TestSuggestionsInErrors(t *testing.T) {
	src := `name = "x"
seeds = [1]
[model]
preset = "tinny"
[task]
name = "arith"
[[algorithm]]
name = "grop"
[[algorithm]]
name = "grpo"
kl_bta = 0.1
`
	s, err := Parse([]byte(src), "typo.toml")
	if err == nil {
		_, err = s.Expand()
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	for _, want := range []string{
		`typo.toml:4: model.preset: unknown model preset "tinny" (did you mean "tiny"?)`,
		`typo.toml:8: algorithm.grop.name: unknown algorithm "grop" (did you mean "grpo"?)`,
		`typo.toml:11: algorithm.grpo.kl_bta: grpo: unknown field "kl_bta" (did you mean "kl_beta"?)`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in\n%s", want, msg)
		}
	}
	_, err = Parse([]byte("name = \"x\"\n[train]\nstesp = 2\n"), "typo.toml")
	if err == nil || !strings.Contains(err.Error(), `typo.toml:3: train.stesp: unknown key (did you mean "steps"?)`) {
		t.Errorf("unknown key: %v", err)
	}
}
