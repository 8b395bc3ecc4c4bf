package all_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grao-lab/grao/algorithms/algotest"
	"github.com/grao-lab/grao/algorithms/dapo"
	"github.com/grao-lab/grao/algorithms/dpo"
	"github.com/grao-lab/grao/algorithms/drgrpo"
	"github.com/grao-lab/grao/algorithms/grao"
	"github.com/grao-lab/grao/algorithms/grpo"
	"github.com/grao-lab/grao/algorithms/ppo"
	"github.com/grao-lab/grao/algorithms/rloo"
	"github.com/grao-lab/grao/algorithms/sft"
)

// The built-ins' plain loss functions, which the vectors name.
func init() {
	algotest.Register("sft", true, algotest.Plain(sft.DefaultParams, sft.Loss))
	algotest.Register("dpo", true, algotest.Plain(dpo.DefaultParams, dpo.Loss))
	algotest.Register("grpo", true, algotest.Plain(grpo.DefaultParams, grpo.Loss))
	algotest.Register("grao", true, algotest.Plain(grao.DefaultParams, grao.Loss))
	algotest.Register("ppo", true, algotest.Plain(ppo.DefaultParams, ppo.Loss))
	algotest.Register("rloo", true, algotest.Plain(rloo.DefaultParams, rloo.Loss))
	algotest.Register("drgrpo", true, algotest.Plain(drgrpo.DefaultParams, drgrpo.Loss))
	algotest.Register("dapo", true, algotest.Plain(dapo.DefaultParams, dapo.Loss))
}

const vectorDir = "../testdata/vectors"

// TestVectors is the conformance suite: every *.json in the vectors folder.
func TestVectors(t *testing.T) {
	algotest.RunVectors(t, vectorDir)
}

// TestEveryAlgorithmHasVectors guards against a vectors folder that silently
// lost the files of one algorithm.
func TestEveryAlgorithmHasVectors(t *testing.T) {
	vs, err := algotest.LoadVectors(vectorDir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, v := range vs {
		seen[v.Algorithm]++
	}
	for _, a := range algotest.Algorithms() {
		if seen[a] == 0 {
			t.Errorf("no vector for algorithm %q", a)
		}
	}
}

// TestCheckDetectsMismatch makes sure the runner can fail: perturbing an
// expected loss, a gradient entry or naming an unknown component must be
// reported, with the path of the value.
func TestCheckDetectsMismatch(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(vectorDir, "dpo_check.json"))
	if err != nil {
		t.Fatal(err)
	}
	vs, err := algotest.ParseVectors(data)
	if err != nil {
		t.Fatal(err)
	}
	v := vs[0]
	if msgs := algotest.Check(v); len(msgs) != 0 {
		t.Fatalf("unmodified vector fails: %v", msgs)
	}
	tests := []struct {
		name, key, value, want string
	}{
		{"loss", "loss", "0.7", "expected.loss"},
		{"grad shape", "grad", `{"policy_chosen": [[0.1]]}`, "expected.grad.policy_chosen[0]: got 2 elements, want 1"},
		{"grad value", "grad", `{"policy_chosen": [[0.1, 0.1]]}`, "expected.grad.policy_chosen[0][0]"},
		{"unknown component", "components", `{"nope": 1}`, "expected.components.nope: not produced"},
		{"unknown key", "bogus", `1`, "produces no \"bogus\""},
		{"error expected", "error", `"x"`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := v
			w.Expected = map[string]json.RawMessage{}
			for k, x := range v.Expected {
				w.Expected[k] = x
			}
			if tc.key == "error" {
				w.Expected = map[string]json.RawMessage{"error": json.RawMessage(tc.value)}
			} else {
				w.Expected[tc.key] = json.RawMessage(tc.value)
			}
			msgs := algotest.Check(w)
			if len(msgs) == 0 {
				t.Fatal("mismatch not detected")
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tc.want) {
				t.Errorf("messages %q do not mention %q", msgs, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "empty file"},
		{"syntax", "{\n\"algorithm\": \"dpo\",\n  oops}", "line 3"},
		{"unknown top key", `{"algorithm":"dpo","expected":{"loss":1,"grad":{}},"wat":1}`, `unknown field "wat"`},
		{"unknown algorithm", `{"algorithm":"rlhf9","expected":{"loss":1}}`, `algorithm "rlhf9" is unknown`},
		{"no algorithm", `{"expected":{"loss":1}}`, `missing key "algorithm"`},
		{"no grad", `{"algorithm":"sft","expected":{"loss":1}}`, `missing key "expected.grad"`},
		{"error plus loss", `{"algorithm":"sft","expected":{"loss":1,"error":"x"}}`, `no other keys`},
		{"bad tolerance", `{"algorithm":"kl","expected":{"k1":[1]},"tolerance":{"abs":-1}}`, "tolerance"},
		{"type", "[\n{\"algorithm\": 3}]", "line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := algotest.ParseVectors([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}

// TestBadInputsNameTheKey: decoding errors in params/inputs name the key.
func TestBadInputsNameTheKey(t *testing.T) {
	tests := []struct{ name, vec, want string }{
		{"unknown param", `{"algorithm":"grao","params":{"lamda":1},"inputs":{},"expected":{"error":"x"}}`, `params: json: unknown field "lamda"`},
		{"unknown input", `{"algorithm":"sft","inputs":{"logps":[[1]]},"expected":{"error":"x"}}`, `inputs: json: unknown field "logps"`},
		{"bad param value", `{"algorithm":"grpo","params":{"std":"sample"},"inputs":{"logp":[[-1]],"rewards":[1]},"expected":{"error":"x"}}`, `std = "sample"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs, err := algotest.ParseVectors([]byte(tc.vec))
			if err != nil {
				t.Fatal(err)
			}
			_, err = algotest.Evaluate(vs[0])
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}

// FuzzVector feeds arbitrary bytes through parsing and evaluation: malformed
// vectors and odd inputs (ragged shapes, NaN-free extremes, empty slices)
// must give errors, never panics.
func FuzzVector(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(vectorDir, "*.json"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"algorithm":"ppo","inputs":{"logp":[[-1]],"ref_logp":[[]],"values":[[0]],"scores":[1]},"expected":{"error":"x"}}`))
	f.Add([]byte(`{"algorithm":"grao","inputs":{"prompts":[{"samples":[[]],"reference":[-1],"rewards":[1]}]},"expected":{"error":"x"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		vs, err := algotest.ParseVectors(data)
		if err != nil {
			return
		}
		for _, v := range vs {
			algotest.Check(v)
		}
	})
}
