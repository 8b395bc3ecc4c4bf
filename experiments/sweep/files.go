package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/core/tokenizer"
	"github.com/grao-lab/grao/experiments/tasks"
	"github.com/grao-lab/grao/rewards"
)

// files resolves and checks the files a trial reads: a JSONL dataset, a
// base checkpoint, plugin executables.
func (c *tctx) files(t *Trial, ex explicitFn) {
	if t.Task.Name == "" {
		c.fail("task.name", "required: a built-in task (%s) or a .jsonl dataset path", strings.Join(tasks.Names(), ", "))
	} else if !slices.Contains(tasks.Names(), t.Task.Name) {
		fi := c.file(t.Task.Name, "dataset", func(abs string) string {
			if _, err := tasks.FromJSONL(abs, 1, 0.1); err != nil {
				return err.Error()
			}
			return ""
		})
		if fi.err != "" {
			c.fail("task.name", "%s", fi.err)
		} else {
			t.Task.Path, t.Task.SHA256 = fi.abs, fi.sha
		}
	}
	key := "pretrain.checkpoint"
	if mp := t.Model.Path; mp != "" {
		if t.Pretrain.Checkpoint != "" && t.Pretrain.Checkpoint != mp {
			c.fail("model.path", "%q, but pretrain.checkpoint is %q: they are one setting, give one", mp, t.Pretrain.Checkpoint)
		}
		key, t.Pretrain.Checkpoint, t.Model.Path = "model.path", mp, ""
	}
	if cp := t.Pretrain.Checkpoint; cp != "" {
		p := c.rel(cp)
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			c.fail(key, "%q is not a directory (resolved to %s)", cp, p)
		} else if abs, err := filepath.Abs(p); err == nil {
			t.Pretrain.Checkpoint = abs
			c.checkpointModel(t, ex, key)
		}
	}
	for i := range t.Reward.Parts {
		pt := &t.Reward.Parts[i]
		k := fmt.Sprintf("reward.part[%d].", i+1)
		kind, _ := rewards.Lookup(pt.Kind)
		if kind.Path == "dir" && pt.Path != "" {
			p := c.rel(pt.Path)
			if st, err := os.Stat(p); err != nil || !st.IsDir() {
				c.fail(k+"path", "%q is not a checkpoint directory (resolved to %s)", pt.Path, p)
			} else if abs, err := filepath.Abs(p); err == nil {
				pt.Path = abs
			}
			continue
		}
		if kind.Path != "executable" || pt.Path == "" {
			continue
		}
		path := pt.Path
		if !strings.ContainsRune(path, filepath.Separator) && !strings.ContainsRune(path, '/') {
			if _, err := os.Stat(c.rel(path)); err != nil {
				if lp, err := exec.LookPath(path); err == nil {
					path = lp
				}
			}
		}
		fi := c.file(path, "plugin", func(abs string) string {
			st, _ := os.Stat(abs)
			if st.Mode().Perm()&0o111 == 0 {
				return fmt.Sprintf("%s is not executable (chmod +x)", abs)
			}
			return ""
		})
		if fi.err != "" {
			c.fail(k+"path", "%s", fi.err)
			continue
		}
		if pt.SHA256 != "" && !strings.EqualFold(pt.SHA256, fi.sha) {
			c.fail(k+"sha256", "does not match %s (its sha256 is %s)", fi.abs, fi.sha)
			continue
		}
		pt.Path, pt.SHA256 = fi.abs, fi.sha
		// Arguments are passed verbatim, so a file among them (an
		// interpreted plugin's script) is found where the plugin will look:
		// relative to the directory bench runs in.
		for _, a := range pt.Args {
			st, err := os.Stat(a)
			if err != nil || !st.Mode().IsRegular() {
				continue
			}
			sum, err := fileSHA256(a)
			if err != nil {
				c.fail(k+"args", "%s: %s", a, errReason(err))
				continue
			}
			if pt.ArgsSHA256 == nil {
				pt.ArgsSHA256 = map[string]string{}
			}
			pt.ArgsSHA256[a] = sum
		}
	}
}

// fileSHA256 is the hex SHA-256 of a file's content.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (c *expander) rel(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.s.dir, p)
}

// file checks that name (relative to the sweep file) is a regular file,
// hashes it and runs extra once per file.
func (c *expander) file(name, what string, extra func(abs string) string) fileInfo {
	p := c.rel(name)
	if fi, ok := c.files[p]; ok {
		return fi
	}
	fi := fileInfo{}
	defer func() { c.files[p] = fi }()
	abs, err := filepath.Abs(p)
	if err != nil {
		fi.err = err.Error()
		return fi
	}
	st, err := os.Stat(abs)
	switch {
	case err != nil && what == "dataset":
		fi.err = fmt.Sprintf("%q is neither a built-in task (%s) nor an existing dataset file (looked for %s)", name, strings.Join(tasks.Names(), ", "), abs)
		return fi
	case err != nil:
		fi.err = fmt.Sprintf("%s %q not found (looked for %s)", what, name, abs)
		return fi
	case st.IsDir():
		fi.err = fmt.Sprintf("%s %q is a directory", what, abs)
		return fi
	}
	if fi.err = extra(abs); fi.err != "" {
		return fi
	}
	f, err := os.Open(abs)
	if err != nil {
		fi.err = errReason(err)
		return fi
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		fi.err = err.Error()
		return fi
	}
	fi.abs, fi.sha = abs, hex.EncodeToString(h.Sum(nil))
	return fi
}

// checkpointModel makes a base checkpoint's shape the trial's model (a
// [model] key written in the file must agree with it), labels the model
// after the checkpoint unless model.label is given, and hashes its
// config.json and weights into the trial — all at validation, so a corrupt
// checkpoint fails here, not in the first trial.
func (c *tctx) checkpointModel(t *Trial, ex explicitFn, key string) {
	dir := t.Pretrain.Checkpoint
	mc, err := checkpoint.OpenConfig(dir)
	if err != nil {
		c.fail(key, "%v", err)
		return
	}
	files := []string{checkpoint.ConfigFile, checkpoint.WeightsFile}
	if mc.VocabSize != tokenizer.VocabSize {
		// A BPE model's tokenizer is an input too (a byte checkpoint's is
		// fixed, and leaving it out keeps those trials' IDs).
		t.Model.VocabSize = mc.VocabSize
		for _, f := range []string{checkpoint.TokenizerFile, checkpoint.VocabFile, checkpoint.MergesFile} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				files = append(files, f)
			}
		}
	}
	for _, k := range []struct {
		key       string
		dst       *int
		has, want int
	}{
		{"model.d_model", &t.Model.DModel, t.Model.DModel, mc.DModel},
		{"model.n_layer", &t.Model.NLayer, t.Model.NLayer, mc.NLayer},
		{"model.n_head", &t.Model.NHead, t.Model.NHead, mc.NHead},
		{"model.context", &t.Model.Context, t.Model.Context, mc.Context},
	} {
		if ex(k.key) && k.has != k.want {
			c.fail(k.key, "%d, but %s %s has %d", k.has, key, dir, k.want)
		}
		*k.dst = k.want
	}
	if !ex("model.label") {
		t.Model.Label = filepath.Base(dir)
	}
	h := sha256.New()
	for _, f := range files {
		fh, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			c.fail(key, "%v", err)
			return
		}
		_, err = io.Copy(h, fh)
		fh.Close()
		if err != nil {
			c.fail(key, "%v", err)
			return
		}
	}
	t.Pretrain.CheckpointSHA256 = hex.EncodeToString(h.Sum(nil))
}
