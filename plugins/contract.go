package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/grao-lab/grao/core"
	pb "github.com/grao-lab/grao/plugins/proto/rewardv1"
)

// ProtocolVersion is the application protocol version this package speaks
// (go-plugin's APP-PROTOCOL-VERSION, negotiated through
// PLUGIN_PROTOCOL_VERSIONS). Version 1 is the grao.reward.v1 service.
const ProtocolVersion = 1

// PluginName is the key of the reward in go-plugin's plugin set. A process
// serves exactly one reward.
const PluginName = "reward"

// Handshake is the go-plugin handshake shared by host and plugins. The magic
// cookie is not a security feature: it only stops a plugin binary run by hand
// from waiting forever for a host (it prints a hint and exits instead).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "GRAO_REWARD_PLUGIN",
	MagicCookieValue: "c0d6b4b1-grao-reward-plugin",
}

// VersionedPlugins is the host's negotiation table: protocol version → the
// plugin set spoken at that version. go-plugin sends the keys to the plugin
// (PLUGIN_PROTOCOL_VERSIONS=1) and the plugin answers with the highest one it
// also speaks. A v2 protocol adds an entry here (and its own GRPCPlugin) while
// version 1 stays, so old plugins keep working.
func VersionedPlugins() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		1: {PluginName: &GRPCRewardPlugin{}},
	}
}

// GRPCRewardPlugin is the go-plugin GRPCPlugin for protocol version 1. On the
// plugin side Impl is the reward being served; on the host side Impl is nil
// and GRPCClient returns a client stub.
type GRPCRewardPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl core.Reward
}

var _ plugin.GRPCPlugin = (*GRPCRewardPlugin)(nil)

// GRPCServer registers the reward service on the plugin's gRPC server.
func (p *GRPCRewardPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("plugins: GRPCRewardPlugin.Impl is nil")
	}
	pb.RegisterRewardServer(s, &rewardServer{impl: p.Impl})
	return nil
}

// GRPCClient returns the host-side stub (a *rpcClient).
func (p *GRPCRewardPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &rpcClient{c: pb.NewRewardClient(c)}, nil
}

// rpcClient is the raw host-side stub; Reward adds validation, timeouts and
// restarts on top of it.
type rpcClient struct{ c pb.RewardClient }

func (c *rpcClient) describe(ctx context.Context) (*pb.DescribeResponse, error) {
	return c.c.Describe(ctx, &pb.DescribeRequest{})
}

func (c *rpcClient) score(ctx context.Context, req *pb.ScoreRequest) (*pb.ScoreResponse, error) {
	return c.c.Score(ctx, req)
}

// rewardServer adapts a core.Reward to the generated service interface.
type rewardServer struct {
	pb.UnimplementedRewardServer
	impl core.Reward
}

func (s *rewardServer) Describe(context.Context, *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	return infoToProto(s.impl.Describe()), nil
}

func (s *rewardServer) Score(ctx context.Context, req *pb.ScoreRequest) (*pb.ScoreResponse, error) {
	items, err := itemsFromProto(req.GetItems())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	scores, err := s.impl.Score(ctx, items)
	if err != nil {
		// Keep the caller's cancellation recognisable as such.
		if ctx.Err() != nil {
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		return nil, status.Error(codes.Unknown, err.Error())
	}
	if len(scores) != len(items) {
		return nil, status.Errorf(codes.Internal, "reward returned %d scores for %d items", len(scores), len(items))
	}
	return &pb.ScoreResponse{Scores: scoresToProto(scores)}, nil
}

// Field names of core.RewardItem as used in RewardInfo.Reads and
// DescribeResponse.reads.
const (
	FieldPrompt     = "prompt"
	FieldCompletion = "completion"
	FieldReference  = "reference"
	FieldMeta       = "meta"
)

// knownFields is the set of valid Reads entries.
var knownFields = map[string]bool{FieldPrompt: true, FieldCompletion: true, FieldReference: true, FieldMeta: true}

func infoToProto(in core.RewardInfo) *pb.DescribeResponse {
	return &pb.DescribeResponse{
		Name:          in.Name,
		Version:       in.Version,
		Reads:         append([]string(nil), in.Reads...),
		Deterministic: in.Deterministic,
		Min:           in.Min,
		Max:           in.Max,
	}
}

// infoFromProto converts and validates a Describe answer: a host must not
// start scoring with a reward whose promises make no sense.
func infoFromProto(d *pb.DescribeResponse) (core.RewardInfo, error) {
	in := core.RewardInfo{
		Name:          d.GetName(),
		Version:       d.GetVersion(),
		Reads:         append([]string(nil), d.GetReads()...),
		Deterministic: d.GetDeterministic(),
		Min:           d.GetMin(),
		Max:           d.GetMax(),
	}
	if in.Name == "" {
		return in, errors.New("describe: empty name")
	}
	for _, f := range in.Reads {
		if !knownFields[f] {
			return in, fmt.Errorf("describe: reads: unknown field %q (want prompt, completion, reference or meta)", f)
		}
	}
	if math.IsNaN(in.Min) || math.IsNaN(in.Max) || in.Min > in.Max {
		return in, fmt.Errorf("describe: bad bounds min=%v max=%v", in.Min, in.Max)
	}
	return in, nil
}

// readSet says which item fields to send. An empty Reads means "not
// declared": send everything.
type readSet struct{ prompt, completion, reference, meta bool }

func readsOf(in core.RewardInfo) readSet {
	if len(in.Reads) == 0 {
		return readSet{true, true, true, true}
	}
	var r readSet
	for _, f := range in.Reads {
		switch f {
		case FieldPrompt:
			r.prompt = true
		case FieldCompletion:
			r.completion = true
		case FieldReference:
			r.reference = true
		case FieldMeta:
			r.meta = true
		}
	}
	return r
}

// itemsToProto encodes a batch, sending only the fields the reward reads.
// Meta travels as JSON: it is language-neutral and, unlike
// google.protobuf.Struct, accepts any Go value encoding/json does.
func itemsToProto(items []core.RewardItem, rs readSet) ([]*pb.Item, error) {
	out := make([]*pb.Item, len(items))
	// One backing array instead of len(items) small allocations.
	buf := make([]pb.Item, len(items))
	for i := range items {
		it := &buf[i]
		// Protobuf strings must be UTF-8, but a byte-level policy can emit
		// any bytes: invalid sequences travel as U+FFFD (PROTOCOL.md §6).
		if rs.prompt {
			it.Prompt = strings.ToValidUTF8(items[i].Prompt, "\uFFFD")
		}
		if rs.completion {
			it.Completion = strings.ToValidUTF8(items[i].Completion, "\uFFFD")
		}
		if rs.reference {
			it.Reference = strings.ToValidUTF8(items[i].Reference, "\uFFFD")
		}
		if rs.meta && len(items[i].Meta) > 0 {
			b, err := json.Marshal(items[i].Meta)
			if err != nil {
				return nil, fmt.Errorf("item %d: meta: %w", i, err)
			}
			it.MetaJson = b
		}
		out[i] = it
	}
	return out, nil
}

// itemsFromProto decodes a batch on the plugin side.
func itemsFromProto(in []*pb.Item) ([]core.RewardItem, error) {
	out := make([]core.RewardItem, len(in))
	for i, it := range in {
		meta, err := DecodeMeta(it.GetMetaJson())
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		out[i] = core.RewardItem{
			Prompt:     it.GetPrompt(),
			Completion: it.GetCompletion(),
			Reference:  it.GetReference(),
			Meta:       meta,
		}
	}
	return out, nil
}

// DecodeMeta decodes an Item.meta_json field: empty means no meta (nil map);
// otherwise it must be one JSON object. Numbers decode as float64, as with
// encoding/json.
func DecodeMeta(b []byte) (map[string]any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("meta_json: %w", err)
	}
	if m == nil { // the JSON literal null
		return nil, errors.New("meta_json: null is not an object")
	}
	return m, nil
}

func scoresToProto(in []core.Score) []*pb.Score {
	out := make([]*pb.Score, len(in))
	buf := make([]pb.Score, len(in))
	for i, s := range in {
		p := &buf[i]
		p.Applicable = s.Applicable
		p.Info = s.Info
		if s.Applicable {
			p.Value = s.Value
		}
		out[i] = p
	}
	return out
}

// scoresFromProto converts and validates a Score answer against the batch
// size and the reward's declared bounds.
func scoresFromProto(in []*pb.Score, n int, info core.RewardInfo) ([]core.Score, error) {
	if len(in) != n {
		return nil, fmt.Errorf("returned %d scores for %d items", len(in), n)
	}
	bounded := info.Min != 0 || info.Max != 0
	out := make([]core.Score, n)
	for i, s := range in {
		sc := core.Score{Applicable: s.GetApplicable(), Info: s.GetInfo()}
		if sc.Applicable {
			v := s.GetValue()
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("item %d: non-finite score %v", i, v)
			}
			if bounded && (v < info.Min || v > info.Max) {
				return nil, fmt.Errorf("item %d: score %v outside the declared bounds [%v, %v]", i, v, info.Min, info.Max)
			}
			sc.Value = v
		}
		out[i] = sc
	}
	return out, nil
}
