package plugins

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		mode    string
		ok      bool
		problem string // substring of the first problem
		out     []string
	}{
		{"ok", true, "", []string{"handshake    ok: protocol 1", `describe     ok: name="len"`, "contract     ok", "timing       batch of 16"}},
		{"nondet", false, "contract: len: second call: item 0 = ", nil},
		{"error", false, "score: plugin \"test-error\": Unknown: model weights not loaded", nil},
		{"garbage", false, "handshake: plugin \"test-garbage\"", nil},
		{"crash-once", false, "stability: the plugin crashed and was restarted 1 time(s)", nil},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			cfg, _, _ := testConfig(t, tc.mode)
			var out bytes.Buffer
			rep := Check(context.Background(), cfg, CheckOptions{Batch: 16, Reps: 3, Out: &out})
			if rep.OK() != tc.ok {
				t.Fatalf("OK = %v, problems %q\n%s", rep.OK(), rep.Problems, out.String())
			}
			if tc.problem != "" && !strings.HasPrefix(rep.Problems[0], tc.problem) {
				t.Errorf("problem %q, want prefix %q", rep.Problems[0], tc.problem)
			}
			for _, w := range tc.out {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if tc.ok && (rep.Batch != 16 || rep.CallMin <= 0 || rep.CallMin > rep.CallMedian || rep.CallMedian > rep.CallP90) {
				t.Errorf("bad timing %+v", rep)
			}
		})
	}
}
