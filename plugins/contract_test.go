package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/grao-lab/grao/core"
	pb "github.com/grao-lab/grao/plugins/proto/rewardv1"
)

// inProcess connects a host stub to r served in this process through
// go-plugin's own gRPC test harness (no subprocess, no handshake).
func inProcess(t testing.TB, r core.Reward) *rpcClient {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		PluginName: &GRPCRewardPlugin{Impl: r},
	})
	t.Cleanup(func() {
		client.Close()
		server.Stop()
	})
	raw, err := client.Dispense(PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*rpcClient)
}

func TestInProcessRoundTrip(t *testing.T) {
	c := inProcess(t, lenReward{})
	d, err := c.describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	info, err := infoFromProto(d)
	if err != nil {
		t.Fatal(err)
	}
	if want := (lenReward{}).Describe(); !reflect.DeepEqual(info, want) {
		t.Errorf("Describe round trip: %+v, want %+v", info, want)
	}
	for _, n := range []int{1, 7, 64} {
		items := sampleItems(n)
		enc, err := itemsToProto(items, readsOf(info))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.score(context.Background(), &pb.ScoreRequest{Items: enc})
		if err != nil {
			t.Fatal(err)
		}
		got, err := scoresFromProto(resp.GetScores(), n, info)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := lenReward{}.Score(context.Background(), items)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("n=%d: got %+v, want %+v", n, got, want)
		}
	}
}

func TestServerErrorMapping(t *testing.T) {
	failing := funcReward{lenReward{}.Describe(), func(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
		if len(items) == 2 {
			return make([]core.Score, 1), nil
		}
		return nil, errors.New("judge unavailable")
	}}
	c := inProcess(t, failing)
	tests := []struct {
		name  string
		items []*pb.Item
		code  codes.Code
		msg   string
	}{
		{"reward error", []*pb.Item{{}}, codes.Unknown, "judge unavailable"},
		{"wrong count", []*pb.Item{{}, {}}, codes.Internal, "reward returned 1 scores for 2 items"},
		{"bad meta json", []*pb.Item{{MetaJson: []byte("{")}}, codes.InvalidArgument, "item 0: meta_json"},
		{"meta not object", []*pb.Item{{}, {}, {MetaJson: []byte("[1]")}}, codes.InvalidArgument, "item 2: meta_json"},
		{"meta null", []*pb.Item{{MetaJson: []byte("null")}}, codes.InvalidArgument, "null is not an object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.score(context.Background(), &pb.ScoreRequest{Items: tc.items})
			s, _ := status.FromError(err)
			if s.Code() != tc.code || !strings.Contains(s.Message(), tc.msg) {
				t.Errorf("got %v, want code %v with %q", err, tc.code, tc.msg)
			}
		})
	}
}

func TestInfoFromProto(t *testing.T) {
	tests := []struct {
		name string
		in   *pb.DescribeResponse
		want string // error substring; "" means valid
	}{
		{"valid", &pb.DescribeResponse{Name: "x", Reads: []string{"prompt", "completion", "reference", "meta"}, Min: -1, Max: 1}, ""},
		{"unbounded", &pb.DescribeResponse{Name: "x"}, ""},
		{"empty name", &pb.DescribeResponse{}, "empty name"},
		{"unknown read", &pb.DescribeResponse{Name: "x", Reads: []string{"answer"}}, `unknown field "answer"`},
		{"min > max", &pb.DescribeResponse{Name: "x", Min: 2, Max: 1}, "bad bounds"},
		{"nan bound", &pb.DescribeResponse{Name: "x", Min: math.NaN()}, "bad bounds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := infoFromProto(tc.in)
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestScoresFromProto(t *testing.T) {
	bounded := core.RewardInfo{Min: -1, Max: 1}
	tests := []struct {
		name string
		in   []*pb.Score
		n    int
		info core.RewardInfo
		want []core.Score
		err  string
	}{
		{"ok", []*pb.Score{{Value: 1, Applicable: true, Info: "w"}, {Value: -1, Applicable: true}}, 2, bounded,
			[]core.Score{{Value: 1, Applicable: true, Info: "w"}, {Value: -1, Applicable: true}}, ""},
		{"not applicable zeroes value", []*pb.Score{{Value: 7}}, 1, bounded, []core.Score{{}}, ""},
		{"count", []*pb.Score{{}}, 2, bounded, nil, "returned 1 scores for 2 items"},
		{"nan", []*pb.Score{{Value: math.NaN(), Applicable: true}}, 1, core.RewardInfo{}, nil, "non-finite"},
		{"inf", []*pb.Score{{}, {Value: math.Inf(-1), Applicable: true}}, 2, core.RewardInfo{}, nil, "item 1: non-finite"},
		{"above max", []*pb.Score{{Value: 1.5, Applicable: true}}, 1, bounded, nil, "outside the declared bounds [-1, 1]"},
		{"unbounded accepts", []*pb.Score{{Value: 1e9, Applicable: true}}, 1, core.RewardInfo{}, []core.Score{{Value: 1e9, Applicable: true}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scoresFromProto(tc.in, tc.n, tc.info)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestItemsToProtoMetaErrors(t *testing.T) {
	items := []core.RewardItem{{}, {Meta: map[string]any{"f": func() {}}}}
	if _, err := itemsToProto(items, readsOf(core.RewardInfo{})); err == nil || !strings.Contains(err.Error(), "item 1: meta") {
		t.Errorf("err = %v, want an error naming item 1", err)
	}
	// Unread meta is not encoded, so it cannot fail.
	if _, err := itemsToProto(items, readsOf(core.RewardInfo{Reads: []string{FieldCompletion}})); err != nil {
		t.Errorf("unread meta was encoded: %v", err)
	}
}

func TestParseLogLine(t *testing.T) {
	tests := []struct {
		line  string
		level string
		msg   string
		kv    []any
	}{
		{"plain text", "info", "plain text", nil},
		{"[WARN] careful", "warn", "careful", nil},
		{"[WARNING] python style", "warn", "python style", nil},
		{"[ERROR]boom", "error", "boom", nil},
		{`{"@level":"debug","@message":"hi","@module":"plugin","@timestamp":"x","n":1}`, "debug", "hi", []any{"module", "plugin", "n", 1.0}},
		{`{"@message":"no level"}`, "info", "no level", []any{}},
		{`{"not":"hclog"}`, "info", `{"not":"hclog"}`, nil},
		{`{broken`, "info", `{broken`, nil},
		{"panic: runtime error: index out of range", "error", "panic: runtime error: index out of range", nil},
		{"Traceback (most recent call last):", "error", "Traceback (most recent call last):", nil},
	}
	for _, tc := range tests {
		level, msg, kv := parseLogLine(tc.line)
		if level.String() != tc.level || msg != tc.msg || (len(kv) > 0 || len(tc.kv) > 0) && !reflect.DeepEqual(kv, tc.kv) {
			t.Errorf("parseLogLine(%q) = %v %q %v; want %v %q %v", tc.line, level, msg, kv, tc.level, tc.msg, tc.kv)
		}
	}
}

// FuzzDecodeMeta: meta_json comes from any language; decoding must never
// panic and accepted input must survive a re-encode.
func FuzzDecodeMeta(f *testing.F) {
	for _, s := range []string{"", "{}", `{"a":1}`, `{"a":[1,"x",null,{"b":true}]}`, "null", "[1]", "{", `"s"`, `{"a":1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMeta(b)
		if err != nil {
			return
		}
		if len(b) > 0 && m == nil {
			t.Fatalf("accepted %q as no meta", b)
		}
		if m == nil {
			return
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("re-encode of %q: %v", b, err)
		}
		m2, err := DecodeMeta(again)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip of %q changed it: %v %v", b, m2, err)
		}
	})
}

// FuzzItemsFromProto: whatever a host sends, the plugin side decodes or
// rejects it with an error naming the item, without panicking.
func FuzzItemsFromProto(f *testing.F) {
	f.Add([]byte(`{"k":"v"}`), "p", "c")
	f.Add([]byte("\xff"), "", "")
	f.Fuzz(func(t *testing.T, meta []byte, prompt, completion string) {
		items, err := itemsFromProto([]*pb.Item{{}, {Prompt: prompt, Completion: completion, MetaJson: meta}})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "item 1: ") {
				t.Fatalf("error does not name the item: %v", err)
			}
			return
		}
		if items[1].Prompt != prompt || items[1].Completion != completion {
			t.Fatalf("fields changed")
		}
	})
}
