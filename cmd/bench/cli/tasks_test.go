package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTasksCommand(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte(`{"prompt":"Human: x\nAssistant:","chosen":" a","rejected":" b"}`+"\n"+`{"prompt":"Human: y\nAssistant:","chosen":" a"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "arith.jsonl")
	cases := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"tasks"}, 0, "hh-harmless", ""},
		{[]string{"tasks", "list"}, 0, "arith", ""},
		{[]string{"tasks", "show", "arith", "--n", "2", "--split", "eval"}, 0, `"prompt":"Human: `, ""},
		{[]string{"tasks", "show", "--n", "1", "hh-helpful"}, 0, `"chosen":`, ""},
		{[]string{"tasks", "show", "arith", "--split", "corpus", "--n", "1"}, 0, `Assistant: `, ""},
		{[]string{"tasks", "show", "arith", "--split", "test"}, 2, "", "--split must be train or eval"},
		{[]string{"tasks", "show"}, 2, "", "missing task name"},
		{[]string{"tasks", "show", "nope"}, 2, "", `unknown task "nope"`},
		{[]string{"tasks", "show", "hh-helpful", "--digits", "3"}, 2, "", "arith only"},
		{[]string{"tasks", "export", "arith"}, 2, "", "--out is required"},
		{[]string{"tasks", "export", "arith", "--split", "eval", "--out", out}, 0, "", "wrote 500 eval examples"},
		{[]string{"tasks", "judge", out, "--eval-fraction", "0.5"}, 0, "chosen over rejected   100.00%", ""},
		{[]string{"tasks", "judge", "hh-harmless"}, 0, "rejected over chosen     0.00%", ""},
		{[]string{"tasks", "judge", bad}, 2, "", "bad.jsonl:2: missing \"rejected\""},
		{[]string{"tasks", "frobnicate"}, 2, "", "unknown subcommand"},
		{[]string{"tasks", "judge", "arith", "extra"}, 2, "", "unexpected arguments"},
	}
	for _, c := range cases {
		var so, se bytes.Buffer
		code := Run(c.args, &so, &se)
		if code != c.code || !strings.Contains(so.String(), c.stdout) || !strings.Contains(se.String(), c.stderr) {
			t.Errorf("bench %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(c.args, " "), code, c.code, so.String(), se.String())
		}
	}
}

func TestTasksJudgeJSON(t *testing.T) {
	var so, se bytes.Buffer
	if code := Run([]string{"tasks", "judge", "arith", "--json", "--seed", "3"}, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	var got struct {
		Task               string  `json:"task"`
		Seed               uint64  `json:"seed"`
		ChosenOverRejected float64 `json:"chosen_over_rejected"`
	}
	if err := json.Unmarshal(so.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Task != "arith" || got.Seed != 3 || got.ChosenOverRejected < 0.99 {
		t.Errorf("got %+v", got)
	}
}
