package plugins

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestSpecGolden converts every [[reward]] of testdata/specs.toml and
// compares the results with testdata/specs.golden.json (go test -update
// rewrites it; review the diff).
func TestSpecGolden(t *testing.T) {
	var file struct{ Reward []Spec }
	md, err := toml.DecodeFile("testdata/specs.toml", &file)
	if err != nil {
		t.Fatal(err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		t.Fatalf("Spec lacks keys used in testdata: %v", und)
	}
	type result struct {
		Config *Config `json:",omitempty"`
		Error  string  `json:",omitempty"`
	}
	var got []result
	for _, s := range file.Reward {
		cfg, err := s.Config("/sweeps")
		if err != nil {
			got = append(got, result{Error: err.Error()})
			continue
		}
		got = append(got, result{Config: &cfg})
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	golden := filepath.Join("testdata", "specs.golden.json")
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestSpecGolden -update ./plugins)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("specs differ from %s:\n%s", golden, b)
	}
}

// A reward plugin part's default timeout is the host's.
func TestDefaultRewardTimeout(t *testing.T) {
	if d, err := time.ParseDuration(DefaultRewardTimeout); err != nil || d != DefaultTimeout {
		t.Errorf("DefaultRewardTimeout %q, the host's default is %v", DefaultRewardTimeout, DefaultTimeout)
	}
}
