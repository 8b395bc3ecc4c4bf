package plugins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A reward plugin whose script changed after validation is refused before
// it starts; one whose script is unchanged is not.
func TestCheckArgDigests(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "r.py")
	os.WriteFile(script, []byte("v1"), 0o644)
	want, err := inputDigests("", []string{script, "--flag"})
	if err != nil || len(want) != 1 {
		t.Fatalf("digests %v, err %v", want, err)
	}
	if err := checkArgDigests([]string{script, "--flag"}, want); err != nil {
		t.Errorf("unchanged script refused: %v", err)
	}
	os.WriteFile(script, []byte("v2"), 0o644)
	if err := checkArgDigests([]string{script, "--flag"}, want); err == nil || !strings.Contains(err.Error(), "changed since the sweep was validated: "+script) {
		t.Errorf("edited script: err %v", err)
	}
	os.Remove(script)
	if err := checkArgDigests([]string{script}, want); err == nil {
		t.Error("a removed script was accepted")
	}
}
