package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"

	"github.com/BurntSushi/toml"
)

// EncodeTrial writes t as canonical TOML: fields in declaration order,
// map keys sorted, every value written (no omitempty), floats in the
// shortest form that reads back exactly. The runner writes it as each
// trial's config.toml, and the trial ID hashes it.
func EncodeTrial(t Trial) ([]byte, error) {
	var buf bytes.Buffer
	enc := toml.NewEncoder(&buf)
	enc.Indent = ""
	if err := enc.Encode(t); err != nil {
		return nil, fmt.Errorf("sweep: encode trial %s: %w", t.ID, err)
	}
	return buf.Bytes(), nil
}

// DecodeTrial reads a config.toml written by EncodeTrial. Unknown keys
// and wrong types are errors with file, line and key; so is an id that
// does not match the contents (the file was edited, or written by a
// version of grao whose configuration had other keys).
func DecodeTrial(data []byte, file string) (Trial, error) {
	if file == "" {
		file = "<trial>"
	}
	el := &errList{file: file}
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			el.add(pe.Position.Line, pe.LastKey, "syntax error: %s", pe.Message)
		} else {
			el.add(0, "", "syntax error: %v", err)
		}
		return Trial{}, el.err()
	}
	loc := locate(string(data))
	var t Trial
	fail := func(segs []string, reason string) { el.add(loc.lineOf(segs...), display(segs), "%s", reason) }
	if r := assign(reflect.ValueOf(&t).Elem(), raw, false, fail); r != "" {
		el.add(0, "", "%s", r)
	}
	if err := el.err(); err != nil {
		return Trial{}, err
	}
	if len(t.Varying) == 0 {
		t.Varying = nil
	}
	if len(t.Selected) == 0 {
		t.Selected = nil
	}
	if t.Params == nil {
		t.Params = map[string]any{}
	}
	if want := ComputeID(t); t.ID != want {
		el.add(loc.lineOf("id"), "id", "%q does not match the configuration, whose id is %q (edited by hand, or written by another version?)", t.ID, want)
		return Trial{}, el.err()
	}
	return t, nil
}

// ComputeID is "<label>-s<seed>-<8 hex digits>": the hex digits start the
// SHA-256 of the canonical encoding of t without ID, Sweep, Varying,
// Selected, Task.Path and Train.CheckpointEvery — everything that can
// change results, and nothing that can't (which sweep, grid or selection
// produced the trial, where the checkout lives, how often it saves its
// state). Selection trials evaluate on the dev split,
// so their config, and ID, differs from every main trial's.
func ComputeID(t Trial) string {
	c := t
	c.ID, c.Sweep, c.Varying, c.Selected, c.Task.Path = "", "", nil, nil, ""
	c.Train.CheckpointEvery = 0 // as before checkpoints existed: old IDs stay
	b, err := EncodeTrial(c)
	if err != nil {
		// Only a parameter value TOML cannot represent gets here; Expand
		// never produces one. Hash the Go representation instead so the
		// ID stays deterministic.
		b = fmt.Appendf(nil, "%#v", c)
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%s-s%d-%s", t.Label, t.Seed, hex.EncodeToString(sum[:4]))
}

// BaseKey identifies the base model a trial starts from: a hash of its
// model, task and pretrain settings only (not the model's label, the
// judge's tie margin or the dataset's location, which cannot change the
// pre-trained weights). Trials with the same BaseKey share one cached base
// model, whatever their algorithm, seed or training settings.
func (t Trial) BaseKey() string {
	type base struct {
		Model    ModelSpec    `toml:"model"`
		Task     TaskSpec     `toml:"task"`
		Pretrain PretrainSpec `toml:"pretrain"`
		// Device pre-trains too (absent for the CPU: old keys stay).
		Device string `toml:"device,omitempty"`
	}
	b := base{Model: t.Model, Task: t.Task, Pretrain: t.Pretrain, Device: t.Train.Device}
	b.Model.Label, b.Task.Path, b.Task.TieMargin = "", "", 0
	// Nor which levels the splits use, nor truncation: the corpus draws
	// every level and avoids the eval and dev prompts of every level, so
	// calibration can place levels on the base model itself.
	b.Task.Levels, b.Task.Band, b.Task.Truncate = nil, nil, ""
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(b); err != nil {
		fmt.Fprintf(&buf, "%#v", b)
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:8])
}
