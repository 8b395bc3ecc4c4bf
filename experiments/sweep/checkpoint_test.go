package sweep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/core/model"
)

// A base checkpoint is the trial's model: its shape replaces the preset's,
// a written [model] key must agree with it, the model is labelled after
// it, a corrupt one fails validation, and its content is in the trial ID.
func TestPretrainCheckpoint(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := model.Preset("tiny")
	cfg.DModel, cfg.NHead = 32, 2
	p, err := model.Init(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, "mybase")
	if err := checkpoint.Save(ck, p, nil); err != nil {
		t.Fatal(err)
	}
	src := func(extra string) string {
		return "name = \"c\"\nseeds = [1]\n[model]\npreset = \"small\"\n" + extra +
			"[task]\nname = \"arith\"\ndigits = 2\n[pretrain]\ncheckpoint = \"mybase\"\n[train]\nmax_new_tokens = 16\n[eval]\nmax_new_tokens = 16\n[[algorithm]]\nname = \"sft\"\n"
	}
	expand := func(s string) ([]Trial, error) {
		f := filepath.Join(dir, "c.toml")
		os.WriteFile(f, []byte(s), 0o644)
		sw, err := ParseFile(f)
		if err != nil {
			return nil, err
		}
		return sw.Expand()
	}
	trials, err := expand(src(""))
	if err != nil {
		t.Fatal(err)
	}
	m := trials[0].Model
	if m.DModel != 32 || m.NHead != 2 || m.Context != cfg.Context || m.Label != "mybase" {
		t.Errorf("model %+v: want the checkpoint's shape (d 32, 2 heads, context %d), labelled mybase", m, cfg.Context)
	}
	if len(trials[0].Pretrain.CheckpointSHA256) != 64 {
		t.Errorf("no content hash: %+v", trials[0].Pretrain)
	}
	if _, err := expand(src("d_model = 128\n")); err == nil || !strings.Contains(err.Error(), "model.d_model: 128, but pretrain.checkpoint") {
		t.Errorf("a [model] key that disagrees: %v", err)
	}
	// Other weights under the same path: another trial.
	p2, _ := model.Init(cfg, 2)
	checkpoint.Save(ck, p2, nil)
	again, err := expand(src(""))
	if err != nil {
		t.Fatal(err)
	}
	if again[0].ID == trials[0].ID {
		t.Error("new weights under the same path kept the trial ID")
	}
	os.WriteFile(filepath.Join(ck, checkpoint.ConfigFile), []byte("{"), 0o644)
	if _, err := expand(src("")); err == nil || !strings.Contains(err.Error(), "pretrain.checkpoint") {
		t.Errorf("a corrupt checkpoint passes validation: %v", err)
	}
}
