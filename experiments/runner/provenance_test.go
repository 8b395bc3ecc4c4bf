package runner

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A run records its build and sweep; resuming with another build or an
// edited sweep is refused unless forced, and a forced resume is recorded.
func TestProvenance(t *testing.T) {
	dir := t.TempDir()
	src := []byte("name = \"x\"\nseeds = [1]\n")
	if err := checkProvenance(dir, src, nil, false, false); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "sweep.toml"), src, 0o644)
	if err := checkProvenance(dir, src, nil, true, false); err != nil {
		t.Fatalf("same build, same sweep: %v", err)
	}
	// Another build made the run.
	var p provenance
	raw, _ := os.ReadFile(filepath.Join(dir, provenanceFile))
	json.Unmarshal(raw, &p)
	p.Grao = Version{Revision: "0123456789abcdef0123", Modified: true}
	raw, _ = json.Marshal(p)
	os.WriteFile(filepath.Join(dir, provenanceFile), raw, 0o644)
	err := checkProvenance(dir, src, nil, true, false)
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "made by grao 0123456789ab+uncommitted") {
		t.Fatalf("another build: %v", err)
	}
	edited := []byte("name = \"x\"\nseeds = [1, 2]\n")
	err = checkProvenance(dir, edited, nil, true, false)
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "- seeds = [1]\n+ seeds = [1, 2]") {
		t.Fatalf("edited sweep: %v", err)
	}
	if err := checkProvenance(dir, edited, nil, true, true); err != nil {
		t.Fatalf("forced: %v", err)
	}
	err = checkProvenance(dir, edited, []string{"train.lr=1e-4"}, true, false)
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "--set overrides changed since the run began:\n+ --set train.lr=1e-4") {
		t.Fatalf("another --set: %v", err)
	}
	raw, _ = os.ReadFile(filepath.Join(dir, provenanceFile))
	json.Unmarshal(raw, &p)
	if len(p.Forced) != 1 || p.Grao.Revision != "0123456789abcdef0123" {
		t.Errorf("forced resume not recorded beside the original: %+v", p)
	}
}

func TestLineDiff(t *testing.T) {
	got := lineDiff("a\nb\nc", "a\nc\nd")
	if got != "- b\n+ d" {
		t.Errorf("lineDiff = %q", got)
	}
}
