package trainer

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/checkpoint"
)

// A trainer's state between two steps is the policy's weights (value head
// included), the optimiser's moments and update count, and the state of a
// reward or algorithm that keeps some (core.Stateful). Nothing else
// carries over: each step's prompts and samples come from RNGs derived
// from the seed and the step number, graphs and sampler buffers are
// rebuilt as needed, and the frozen start policy is the trainer's initial
// weights. So a trainer built as the interrupted one was, loaded with its
// state after step k, runs step k+1 onwards bit for bit as the
// uninterrupted trainer did.

// State tensors and metadata keys. The caller's metadata must not use the
// "trainer." prefix.
const (
	policyPrefix = "policy/" // before every tensor of the engine's state
	metaPrefix   = "trainer."
	metaModel    = metaPrefix + "model"
	metaEngine   = metaPrefix + "engine." // before the engine's metadata
	metaReward   = metaPrefix + "reward_state"
	metaAlg      = metaPrefix + "algorithm_state"
)

// SaveState writes the trainer's state as one safetensors file, with meta
// (the caller's own keys, such as the step) in its metadata.
func (t *Trainer) SaveState(w io.Writer, meta map[string]string) error {
	all := map[string]string{}
	for k, v := range meta {
		if strings.HasPrefix(k, metaPrefix) {
			return fmt.Errorf("trainer: state metadata key %q uses the reserved prefix %q", k, metaPrefix)
		}
		all[k] = v
	}
	info, err := json.Marshal(t.Policy.Info())
	if err != nil {
		return err
	}
	all[metaModel] = string(info)
	ts, em, err := t.Policy.State()
	if err != nil {
		return fmt.Errorf("trainer: engine state: %w", err)
	}
	for k, v := range em {
		all[metaEngine+k] = v
	}
	if err := putState(all, metaReward, t.reward); err != nil {
		return fmt.Errorf("trainer: reward state: %w", err)
	}
	if err := putState(all, metaAlg, t.alg); err != nil {
		return fmt.Errorf("trainer: %s state: %w", t.alg.Name(), err)
	}
	named := make([]checkpoint.Named, len(ts))
	for i, x := range ts {
		named[i] = checkpoint.Named{Name: policyPrefix + x.Name, Shape: x.Shape, Data: x.Data}
	}
	return checkpoint.Write(w, named, all)
}

func putState(meta map[string]string, key string, c any) error {
	s, ok := c.(core.Stateful)
	if !ok {
		return nil
	}
	b, err := s.MarshalState()
	if err != nil {
		return err
	}
	meta[key] = base64.StdEncoding.EncodeToString(b)
	return nil
}

// LoadState restores a state SaveState wrote (of size bytes, read from r)
// into a trainer built with the same configuration, and returns the
// caller's metadata. It must be called before the first Step.
func (t *Trainer) LoadState(r io.ReaderAt, size int64) (map[string]string, error) {
	h, err := checkpoint.ReadHeader(r, size)
	if err != nil {
		return nil, err
	}
	meta := h.Metadata
	info, err := json.Marshal(t.Policy.Info())
	if err != nil {
		return nil, err
	}
	if got := meta[metaModel]; got != string(info) {
		return nil, fmt.Errorf("trainer: state is of model %s, the trainer's is %s", got, info)
	}
	em := map[string]string{}
	for k, v := range meta {
		if name, ok := strings.CutPrefix(k, metaEngine); ok {
			em[name] = v
		}
	}
	ts := make([]core.Tensor, 0, len(h.Tensors))
	for _, ti := range h.Tensors {
		name, ok := strings.CutPrefix(ti.Name, policyPrefix)
		if !ok {
			return nil, fmt.Errorf("trainer: state tensor %q is not the engine's", ti.Name)
		}
		d, err := checkpoint.ReadFloat32(r, h, ti)
		if err != nil {
			return nil, err
		}
		ts = append(ts, core.Tensor{Name: name, Shape: ti.Shape, Data: d})
	}
	if err := getState(meta, metaReward, t.reward); err != nil {
		return nil, fmt.Errorf("trainer: reward state: %w", err)
	}
	if err := getState(meta, metaAlg, t.alg); err != nil {
		return nil, fmt.Errorf("trainer: %s state: %w", t.alg.Name(), err)
	}
	if err := t.Policy.SetState(ts, em); err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	return callerMeta(meta), nil
}

// StateMetadata returns the caller's metadata of a state SaveState wrote,
// without reading its tensors or changing any trainer.
func StateMetadata(r io.ReaderAt, size int64) (map[string]string, error) {
	h, err := checkpoint.ReadHeader(r, size)
	if err != nil {
		return nil, err
	}
	return callerMeta(h.Metadata), nil
}

func callerMeta(meta map[string]string) map[string]string {
	out := map[string]string{}
	for k, val := range meta {
		if !strings.HasPrefix(k, metaPrefix) {
			out[k] = val
		}
	}
	return out
}

func getState(meta map[string]string, key string, c any) error {
	enc, has := meta[key]
	s, ok := c.(core.Stateful)
	switch {
	case !has && !ok:
		return nil
	case has != ok:
		return fmt.Errorf("saved state and component disagree on whether there is state (saved: %v)", has)
	}
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return err
	}
	return s.UnmarshalState(b)
}
