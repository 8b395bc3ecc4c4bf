package trainer

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
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
	policyPrefix = "policy/"
	mPrefix      = "adam_m/"
	vPrefix      = "adam_v/"
	metaPrefix   = "trainer."
	metaModel    = metaPrefix + "model"
	metaUpdates  = metaPrefix + "optimiser_updates"
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
	cfg, err := json.Marshal(t.Policy.Config)
	if err != nil {
		return err
	}
	all[metaModel] = string(cfg)
	m, v, updates := t.opt.Moments()
	all[metaUpdates] = strconv.Itoa(updates)
	if err := putState(all, metaReward, t.reward); err != nil {
		return fmt.Errorf("trainer: reward state: %w", err)
	}
	if err := putState(all, metaAlg, t.alg); err != nil {
		return fmt.Errorf("trainer: %s state: %w", t.alg.Name(), err)
	}
	var ts []checkpoint.Named
	for i, p := range t.Policy.All() {
		ts = append(ts,
			checkpoint.Named{Name: policyPrefix + p.Name, Shape: p.Shape, Data: p.Data},
			checkpoint.Named{Name: mPrefix + p.Name, Shape: p.Shape, Data: m[i]},
			checkpoint.Named{Name: vPrefix + p.Name, Shape: p.Shape, Data: v[i]})
	}
	return checkpoint.Write(w, ts, all)
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
	cfg, err := json.Marshal(t.Policy.Config)
	if err != nil {
		return nil, err
	}
	if got := meta[metaModel]; got != string(cfg) {
		return nil, fmt.Errorf("trainer: state is of model %s, the trainer's is %s", got, cfg)
	}
	updates, err := strconv.Atoi(meta[metaUpdates])
	if err != nil {
		return nil, fmt.Errorf("trainer: state: %s: %w", metaUpdates, err)
	}
	params := t.Policy.All()
	if want := 3 * len(params); len(h.Tensors) != want {
		return nil, fmt.Errorf("trainer: state holds %d tensors, want %d", len(h.Tensors), want)
	}
	read := func(name string, n int) ([]float32, error) {
		ti, ok := h.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("trainer: state has no tensor %q", name)
		}
		d, err := checkpoint.ReadFloat32(r, h, ti)
		if err != nil {
			return nil, err
		}
		if len(d) != n {
			return nil, fmt.Errorf("trainer: state tensor %q has %d elements, want %d", name, len(d), n)
		}
		return d, nil
	}
	weights := make([][]float32, len(params))
	m := make([][]float32, len(params))
	v := make([][]float32, len(params))
	for i, p := range params {
		if weights[i], err = read(policyPrefix+p.Name, len(p.Data)); err != nil {
			return nil, err
		}
		if m[i], err = read(mPrefix+p.Name, len(p.Data)); err != nil {
			return nil, err
		}
		if v[i], err = read(vPrefix+p.Name, len(p.Data)); err != nil {
			return nil, err
		}
	}
	if err := getState(meta, metaReward, t.reward); err != nil {
		return nil, fmt.Errorf("trainer: reward state: %w", err)
	}
	if err := getState(meta, metaAlg, t.alg); err != nil {
		return nil, fmt.Errorf("trainer: %s state: %w", t.alg.Name(), err)
	}
	if err := t.opt.Restore(m, v, updates); err != nil {
		return nil, err
	}
	// Weights last, in place: graphs and the sampler read these slices.
	for i, p := range params {
		copy(p.Data, weights[i])
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
