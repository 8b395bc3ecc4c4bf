package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/grao-lab/grao/core"
	apb "github.com/grao-lab/grao/plugins/proto/algorithmv1"
)

// Algorithm is an algorithm served by a plugin process (any language; see
// PROTOCOL.md). It implements core.Algorithm and core.LengthLimited: the
// trainer back-propagates the gradient the plugin returns.
type Algorithm struct {
	srv *algorithmProcess
	// params are the plugin's own parameters, host the keys that say how
	// to run it (set by the "plugin" factory).
	params  map[string]any
	host    map[string]any
	name    string
	version string
	needs   core.Needs
	config  json.RawMessage
	// inputs are the SHA-256 digests of the executable and of every
	// argument naming a file (an interpreted plugin's script).
	inputs map[string]string
}

var (
	_ core.Algorithm     = (*Algorithm)(nil)
	_ core.LengthLimited = (*Algorithm)(nil)
)

// algorithmProcess is one running plugin command, shared by every
// configuration of it: the protocol is stateless, so the sweep's
// validation and all its trials talk to one process per command.
type algorithmProcess struct {
	*proc
	mu      sync.Mutex
	cur     *instance
	rpc     apb.AlgorithmClient
	started bool // once: later start failures are crashes to retry
}

var (
	algoMu    sync.Mutex
	algoProcs = map[string]*algorithmProcess{}
)

// OpenAlgorithm starts (or reuses) the plugin cfg names and configures it
// with params; parameter errors come back from the plugin with their keys.
func OpenAlgorithm(cfg Config, params map[string]any) (*Algorithm, error) {
	srv, err := algorithmProcessFor(cfg)
	if err != nil {
		return nil, err
	}
	inputs, err := inputDigests(srv.path, cfg.Args)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", srv.name, err)
	}
	a := &Algorithm{srv: srv, params: params, inputs: inputs}
	if err := a.configure(0); err != nil {
		return nil, err
	}
	return a, nil
}

func algorithmProcessFor(cfg Config) (*algorithmProcess, error) {
	// Everything that changes how the process runs, so that two entries
	// with other timeouts or restart limits do not share one.
	run := cfg
	run.Logger, run.LogOutput = nil, nil
	key, _ := json.Marshal(run)
	algoMu.Lock()
	defer algoMu.Unlock()
	if p, ok := algoProcs[string(key)]; ok {
		return p, nil
	}
	p, err := newProc(cfg)
	if err != nil {
		return nil, err
	}
	srv := &algorithmProcess{proc: p}
	algoProcs[string(key)] = srv
	return srv, nil
}

// instance returns the running process, starting one when none runs.
func (s *algorithmProcess) instance() (*instance, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		return s.cur, false, nil
	}
	inst, raw, err := s.launch(algorithmKind)
	if err != nil && !s.started {
		// The first start: almost always a configuration error (wrong
		// path, not a plugin), which retrying only repeats.
		return nil, false, err
	}
	if err != nil {
		return nil, true, &crashError{err}
	}
	s.cur, s.rpc, s.started = inst, raw.(apb.AlgorithmClient), true
	s.log.Info("plugin started", "pid", inst.cmd.Process.Pid, "protocol", inst.version, "mtls", !s.cfg.DisableAutoMTLS)
	return inst, true, nil
}

func (s *algorithmProcess) drop(inst *instance) {
	s.mu.Lock()
	if s.cur == inst {
		s.cur = nil
	}
	s.mu.Unlock()
	inst.kill()
}

// call runs one RPC with restarts and timeouts (see Reward.Score).
func (s *algorithmProcess) call(ctx context.Context, fn func(context.Context, apb.AlgorithmClient) error) error {
	return s.retry(ctx, s.instance, func(inst *instance) error {
		s.mu.Lock()
		client := s.rpc
		s.mu.Unlock()
		return s.invoke(ctx, inst, s.drop, func(c context.Context) error { return fn(c, client) })
	})
}

func (a *Algorithm) configure(maxNew int) error {
	raw, err := json.Marshal(a.params)
	if err != nil {
		return fmt.Errorf("plugin %q: parameters: %v", a.srv.name, err)
	}
	var resp *apb.ConfigureResponse
	err = a.srv.call(context.Background(), func(c context.Context, cl apb.AlgorithmClient) (err error) {
		resp, err = cl.Configure(c, &apb.ConfigureRequest{ParamsJson: raw, MaxNewTokens: int32(maxNew)})
		return err
	})
	if err != nil {
		return err
	}
	if errs := resp.GetErrors(); len(errs) > 0 {
		var msgs []string
		for _, e := range errs {
			if e.GetKey() != "" {
				msgs = append(msgs, fmt.Sprintf("key %q: %s", e.GetKey(), e.GetReason()))
			} else {
				msgs = append(msgs, e.GetReason())
			}
		}
		return fmt.Errorf("plugin %q: %s", a.srv.name, strings.Join(msgs, "; "))
	}
	if resp.GetName() == "" {
		return fmt.Errorf("plugin %q: Configure returned no name", a.srv.name)
	}
	needs, err := needsFromProto(resp.GetNeeds())
	if err != nil {
		return fmt.Errorf("plugin %q: %w", a.srv.name, err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(resp.GetConfigJson(), &cfg); err != nil {
		return fmt.Errorf("plugin %q: config_json is not a JSON object: %v", a.srv.name, err)
	}
	a.name, a.version, a.needs, a.config = resp.GetName(), resp.GetVersion(), needs, resp.GetConfigJson()
	return nil
}

// Name is the name the plugin gave in Configure.
func (a *Algorithm) Name() string { return a.name }

// Needs is what the plugin asked for.
func (a *Algorithm) Needs() core.Needs { return a.needs }

// Config is the host's keys, the plugin's resolved configuration and the
// digests of its executable and script: fed back to the "plugin" factory
// it rebuilds this algorithm, and as part of a trial's parameters it puts
// the plugin's code into the trial's ID.
func (a *Algorithm) Config() any {
	out := maps.Clone(a.host)
	if out == nil {
		out = map[string]any{}
	}
	var cfg map[string]any
	json.Unmarshal(a.config, &cfg)
	maps.Copy(out, cfg)
	out[inputsKey] = a.inputs
	return out
}

// SetMaxNewTokens configures the plugin again with the rollouts' limit.
func (a *Algorithm) SetMaxNewTokens(n int) error { return a.configure(n) }

// Loss sends the batch and copies back the plugin's gradient, checking
// its shape and that every number is finite.
func (a *Algorithm) Loss(b, grad *core.Batch) (core.LossValue, error) {
	req := &apb.LossRequest{ConfigJson: a.config, Groups: batchToProto(b)}
	var resp *apb.LossResponse
	err := a.srv.call(context.Background(), func(c context.Context, cl apb.AlgorithmClient) (err error) {
		resp, err = cl.Loss(c, req)
		return err
	})
	if err != nil {
		return core.LossValue{}, err
	}
	if x := resp.GetLoss(); math.IsNaN(x) || math.IsInf(x, 0) {
		return core.LossValue{}, fmt.Errorf("plugin %q: loss %v is not finite", a.srv.name, x)
	}
	for k, v := range resp.GetComponents() {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return core.LossValue{}, fmt.Errorf("plugin %q: component %q = %v is not finite", a.srv.name, k, v)
		}
	}
	if err := gradFromProto(resp.GetGroups(), grad); err != nil {
		return core.LossValue{}, fmt.Errorf("plugin %q: %w", a.srv.name, err)
	}
	return core.LossValue{Loss: resp.GetLoss(), Components: resp.GetComponents()}, nil
}

// inputsKey holds the digests in an algorithm plugin's configuration.
const inputsKey = "input_sha256"

// inputDigests hashes the executable and every argument that names a
// regular file.
func inputDigests(path string, args []string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range append([]string{path}, args...) {
		st, err := os.Stat(f)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		_, err = io.Copy(h, fh)
		fh.Close()
		if err != nil {
			return nil, err
		}
		out[f] = hex.EncodeToString(h.Sum(nil))
	}
	return out, nil
}

// Host keys of an [[algorithm]] table with name = "plugin"; every other
// key is the plugin's own parameter.
var hostKeyNames = []string{"plugin", "args", "env", "sha256", "timeout", "start_timeout", "max_restarts", "no_mtls"}

func hostKeys(params map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range hostKeyNames {
		if v, ok := params[k]; ok {
			out[k] = v
		}
	}
	return out
}

// openAlgorithmParams is the "plugin" algorithm factory: the host keys
// say how to run the plugin (as a reward plugin's Spec does), the rest are
// the plugin's parameters. A recorded input_sha256 (from a resolved
// configuration) must still match the files.
func openAlgorithmParams(params map[string]any) (core.Algorithm, error) {
	own := map[string]any{}
	for k, v := range params {
		if !slices.Contains(hostKeyNames, k) && k != inputsKey {
			own[k] = v
		}
	}
	raw, err := json.Marshal(hostKeys(params))
	if err != nil {
		return nil, fmt.Errorf("plugin: %v", err)
	}
	var spec Spec
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("plugin: %v", err)
	}
	cfg, err := spec.Config("")
	if err != nil {
		return nil, fmt.Errorf("plugin: %v", err)
	}
	a, err := OpenAlgorithm(cfg, own)
	if err != nil {
		return nil, err
	}
	a.host = hostKeys(params)
	if want, ok := params[inputsKey].(map[string]any); ok {
		var stale []string
		for f, sum := range want {
			if a.inputs[f] != sum {
				stale = append(stale, f)
			}
		}
		sort.Strings(stale)
		if len(stale) > 0 {
			return nil, errors.New("plugin: changed since the sweep was validated: " + strings.Join(stale, ", "))
		}
	}
	return a, nil
}
