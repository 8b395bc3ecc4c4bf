package plugins

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/grao-lab/grao/core"
	apb "github.com/grao-lab/grao/plugins/proto/algorithmv1"
)

// AlgorithmPluginName is the key of the algorithm service in go-plugin's
// plugin set.
const AlgorithmPluginName = "algorithm"

// AlgorithmHandshake is the go-plugin handshake of algorithm plugins. Its
// cookie differs from the reward plugins' so that neither kind can be
// started as the other.
var AlgorithmHandshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "GRAO_ALGORITHM_PLUGIN",
	MagicCookieValue: "5e1f03a2-grao-algorithm-plugin",
}

// AlgorithmVersionedPlugins is the host's negotiation table for algorithm
// plugins (version 1: grao.algorithm.v1).
func AlgorithmVersionedPlugins() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{1: {AlgorithmPluginName: &GRPCAlgorithmPlugin{}}}
}

var algorithmKind = kind{handshake: AlgorithmHandshake, versions: AlgorithmVersionedPlugins, dispense: AlgorithmPluginName}

// GRPCAlgorithmPlugin is the go-plugin GRPCPlugin of algorithm plugins.
// On the plugin side Factory builds the algorithm from its parameters; on
// the host side it is nil.
type GRPCAlgorithmPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Factory func(params map[string]any) (core.Algorithm, error)
}

var _ plugin.GRPCPlugin = (*GRPCAlgorithmPlugin)(nil)

// GRPCServer registers the algorithm service.
func (p *GRPCAlgorithmPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Factory == nil {
		return errors.New("plugins: GRPCAlgorithmPlugin.Factory is nil")
	}
	apb.RegisterAlgorithmServer(s, &algorithmServer{factory: p.Factory})
	return nil
}

// GRPCClient returns the host-side stub.
func (p *GRPCAlgorithmPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return apb.NewAlgorithmClient(c), nil
}

// algorithmServer serves a Go algorithm factory: each call builds the
// algorithm from the configuration it carries, so the server keeps no
// state between calls.
type algorithmServer struct {
	apb.UnimplementedAlgorithmServer
	factory func(params map[string]any) (core.Algorithm, error)
}

func (s *algorithmServer) build(raw []byte, maxNew int) (core.Algorithm, error) {
	params := map[string]any{}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &params); err != nil {
			return nil, fmt.Errorf("parameters: %v", err)
		}
	}
	alg, err := s.factory(params)
	if err != nil {
		return nil, err
	}
	if l, ok := alg.(core.LengthLimited); ok && maxNew > 0 {
		if err := l.SetMaxNewTokens(maxNew); err != nil {
			return nil, err
		}
	}
	return alg, nil
}

func (s *algorithmServer) Configure(_ context.Context, req *apb.ConfigureRequest) (*apb.ConfigureResponse, error) {
	alg, err := s.build(req.GetParamsJson(), int(req.GetMaxNewTokens()))
	if err != nil {
		return &apb.ConfigureResponse{Errors: []*apb.FieldError{{Reason: err.Error()}}}, nil
	}
	cfg, err := json.Marshal(alg.Config())
	if err != nil {
		return nil, fmt.Errorf("configuration cannot be encoded: %v", err)
	}
	return &apb.ConfigureResponse{Name: alg.Name(), Needs: needsToProto(alg.Needs()), ConfigJson: cfg}, nil
}

func (s *algorithmServer) Loss(_ context.Context, req *apb.LossRequest) (*apb.LossResponse, error) {
	alg, err := s.build(req.GetConfigJson(), 0)
	if err != nil {
		return nil, err
	}
	b := batchFromProto(req.GetGroups())
	grad := core.NewGrad(b)
	lv, err := alg.Loss(b, grad)
	if err != nil {
		return nil, err
	}
	return &apb.LossResponse{Loss: lv.Loss, Components: lv.Components, Groups: gradToProto(grad)}, nil
}

// needsToProto: a Go algorithm's group filter travels as keep_varied, the
// one filter the protocol knows (drop groups whose rewards are all equal).
func needsToProto(n core.Needs) *apb.Needs {
	return &apb.Needs{Samples: int32(n.Samples), Reference: n.Reference, Pairs: n.Pairs, RefModel: n.RefModel,
		OldLogp: n.OldLogP, Value: n.Value, Epochs: int32(n.Epochs), KeepVaried: n.Keep != nil, MaxRounds: int32(n.MaxRounds)}
}

func needsFromProto(n *apb.Needs) (core.Needs, error) {
	out := core.Needs{Samples: int(n.GetSamples()), Reference: n.GetReference(), Pairs: n.GetPairs(), RefModel: n.GetRefModel(),
		OldLogP: n.GetOldLogp(), Value: n.GetValue(), Epochs: int(n.GetEpochs()), MaxRounds: int(n.GetMaxRounds())}
	switch {
	case out.Samples < 0:
		return out, fmt.Errorf("needs.samples = %d, want ≥ 0", out.Samples)
	case out.Epochs < 1:
		return out, fmt.Errorf("needs.epochs = %d, want ≥ 1", out.Epochs)
	case out.Samples == 0 && !out.Reference && !out.Pairs:
		return out, errors.New("needs asks for no sequence (samples, reference or pairs)")
	case n.GetKeepVaried() && (out.Samples == 0 || out.MaxRounds < 1):
		return out, fmt.Errorf("needs.keep_varied needs samples ≥ 1 and max_rounds ≥ 1 (got %d, %d)", out.Samples, out.MaxRounds)
	}
	if n.GetKeepVaried() {
		out.Keep = core.KeepVaried
	}
	return out, nil
}

func seqToProto(s *core.Seq) *apb.Seq {
	if s == nil {
		return nil
	}
	toks := make([]int32, len(s.Tokens))
	for i, t := range s.Tokens {
		toks[i] = int32(t)
	}
	return &apb.Seq{Tokens: toks, Logp: s.LogP, OldLogp: s.OldLogP, RefLogp: s.RefLogP, Values: s.Values, OldValues: s.OldValues}
}

func seqFromProto(s *apb.Seq) *core.Seq {
	if s == nil {
		return nil
	}
	toks := make([]int, len(s.GetTokens()))
	for i, t := range s.GetTokens() {
		toks[i] = int(t)
	}
	nilIfEmpty := func(x []float64) []float64 {
		if len(x) == 0 {
			return nil
		}
		return x
	}
	return &core.Seq{Tokens: toks, LogP: s.GetLogp(), OldLogP: nilIfEmpty(s.GetOldLogp()), RefLogP: nilIfEmpty(s.GetRefLogp()),
		Values: nilIfEmpty(s.GetValues()), OldValues: nilIfEmpty(s.GetOldValues())}
}

func batchToProto(b *core.Batch) []*apb.Group {
	out := make([]*apb.Group, len(b.Groups))
	for gi := range b.Groups {
		g := &b.Groups[gi]
		pg := &apb.Group{Rewards: g.Rewards, Reference: seqToProto(g.Reference), Chosen: seqToProto(g.Chosen), Rejected: seqToProto(g.Rejected)}
		for i := range g.Samples {
			pg.Samples = append(pg.Samples, seqToProto(&g.Samples[i]))
		}
		if g.RefReward != nil {
			pg.HasRefReward, pg.RefReward = true, *g.RefReward
		}
		out[gi] = pg
	}
	return out
}

func batchFromProto(gs []*apb.Group) *core.Batch {
	b := &core.Batch{Groups: make([]core.Group, len(gs))}
	for gi, pg := range gs {
		g := &b.Groups[gi]
		for _, s := range pg.GetSamples() {
			g.Samples = append(g.Samples, *seqFromProto(s))
		}
		g.Rewards = pg.GetRewards()
		if pg.GetHasRefReward() {
			v := pg.GetRefReward()
			g.RefReward = &v
		}
		g.Reference, g.Chosen, g.Rejected = seqFromProto(pg.GetReference()), seqFromProto(pg.GetChosen()), seqFromProto(pg.GetRejected())
	}
	return b
}

func gradToProto(b *core.Batch) []*apb.GroupGrad {
	sg := func(s *core.Seq) *apb.SeqGrad {
		if s == nil {
			return nil
		}
		return &apb.SeqGrad{Logp: s.LogP, Values: s.Values}
	}
	out := make([]*apb.GroupGrad, len(b.Groups))
	for gi := range b.Groups {
		g := &b.Groups[gi]
		pg := &apb.GroupGrad{Reference: sg(g.Reference), Chosen: sg(g.Chosen), Rejected: sg(g.Rejected)}
		for i := range g.Samples {
			pg.Samples = append(pg.Samples, sg(&g.Samples[i]))
		}
		out[gi] = pg
	}
	return out
}

// gradFromProto copies a plugin's gradient into the trainer's gradient
// batch, checking that it mirrors the batch exactly and is finite.
func gradFromProto(resp []*apb.GroupGrad, grad *core.Batch) error {
	if len(resp) != len(grad.Groups) {
		return fmt.Errorf("gradient has %d groups, the batch %d", len(resp), len(grad.Groups))
	}
	put := func(where string, src *apb.SeqGrad, dst *core.Seq) error {
		if dst == nil {
			if src != nil && (len(src.GetLogp()) > 0 || len(src.GetValues()) > 0) {
				return fmt.Errorf("%s: gradient for a sequence the batch does not have", where)
			}
			return nil
		}
		if len(src.GetLogp()) != len(dst.LogP) {
			return fmt.Errorf("%s: %d log-prob gradients for %d tokens", where, len(src.GetLogp()), len(dst.LogP))
		}
		if dst.Values == nil && len(src.GetValues()) > 0 {
			return fmt.Errorf("%s: value gradients without a value head", where)
		}
		if dst.Values != nil && len(src.GetValues()) != 0 && len(src.GetValues()) != len(dst.Values) {
			return fmt.Errorf("%s: %d value gradients for %d tokens", where, len(src.GetValues()), len(dst.Values))
		}
		for t, x := range src.GetLogp() {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%s: d loss/d logp[%d] = %v is not finite", where, t, x)
			}
		}
		for t, x := range src.GetValues() {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%s: d loss/d values[%d] = %v is not finite", where, t, x)
			}
		}
		copy(dst.LogP, src.GetLogp())
		copy(dst.Values, src.GetValues())
		return nil
	}
	for gi, pg := range resp {
		g := &grad.Groups[gi]
		if len(pg.GetSamples()) != len(g.Samples) {
			return fmt.Errorf("groups[%d]: %d sample gradients for %d samples", gi, len(pg.GetSamples()), len(g.Samples))
		}
		for i := range g.Samples {
			if err := put(fmt.Sprintf("groups[%d].samples[%d]", gi, i), pg.GetSamples()[i], &g.Samples[i]); err != nil {
				return err
			}
		}
		for _, x := range []struct {
			name string
			src  *apb.SeqGrad
			dst  *core.Seq
		}{{"reference", pg.GetReference(), g.Reference}, {"chosen", pg.GetChosen(), g.Chosen}, {"rejected", pg.GetRejected(), g.Rejected}} {
			if err := put(fmt.Sprintf("groups[%d].%s", gi, x.name), x.src, x.dst); err != nil {
				return err
			}
		}
	}
	return nil
}
