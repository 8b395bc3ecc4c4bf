package sweep

import (
	"os"
	"path/filepath"
	"testing"
)

// An interpreted reward plugin's script is an input like its executable:
// its digest is filled in at validation and enters the trial ID, so an
// edited script makes a new trial instead of reusing the old results.
func TestPluginScriptInID(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "interp")
	os.WriteFile(exe, []byte("#!/bin/sh\nexit 1\n"), 0o755)
	script := filepath.Join(dir, "reward.py")
	os.WriteFile(script, []byte("print('v1')\n"), 0o644)
	src := "name = \"p\"\nseeds = [1]\n[model]\npreset = \"tiny\"\n[task]\nname = \"arith\"\ndigits = 1\ntrain_size = 200\neval_size = 40\n" +
		"[train]\nmax_new_tokens = 16\n[eval]\nmax_new_tokens = 16\n[[algorithm]]\nname = \"grpo\"\ng = 2\n" +
		"[reward]\nkind = \"combine\"\n[[reward.part]]\nkind = \"plugin\"\npath = \"interp\"\nargs = [\"" + script + "\", \"--flag\"]\n"
	f := filepath.Join(dir, "p.toml")
	os.WriteFile(f, []byte(src), 0o644)
	id := func() (string, map[string]string) {
		t.Helper()
		sw, err := ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sw.Resolve()
		trials, err := sw.Expand()
		if err != nil {
			t.Fatal(err)
		}
		return trials[0].ID, trials[0].Reward.Parts[0].ArgsSHA256
	}
	id1, sums := id()
	if len(sums) != 1 || len(sums[script]) != 64 {
		t.Fatalf("args_sha256 = %v, want the script's digest only", sums)
	}
	os.WriteFile(script, []byte("print('v2')\n"), 0o644)
	if id2, _ := id(); id2 == id1 {
		t.Errorf("editing the plugin's script kept the trial ID %s", id1)
	}
}
