package plugins

import (
	"context"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core"
	pb "github.com/grao-lab/grao/plugins/proto/rewardv1"
)

// benchItems is a batch shaped like a GRAO rollout: 8 prompts × 8 samples,
// ~300-byte texts and a small meta object.
func benchItems(n int) []core.RewardItem {
	items := make([]core.RewardItem, n)
	for i := range items {
		p := i / 8
		items[i] = core.RewardItem{
			Prompt:     "\n\nHuman: " + strings.Repeat("How should I think about question "+string(rune('a'+p%26))+"? ", 6) + "\n\nAssistant:",
			Completion: strings.Repeat(" sample words", 20+i%7),
			Reference:  strings.Repeat(" reference words", 18),
			Meta:       map[string]any{"answer": float64(p), "bonus": 0.5},
		}
	}
	return items
}

// BenchmarkScore64 measures the overhead of one Score call with 64 items:
// the reward itself is trivial, so the time is transport and encoding.
//
//	go test -run '^$' -bench Score64 -benchtime 2000x ./plugins
func BenchmarkScore64(b *testing.B) {
	items := benchItems(64)
	ctx := context.Background()
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			if _, err := (lenReward{}).Score(ctx, items); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("in-process-grpc", func(b *testing.B) {
		c := inProcess(b, lenReward{})
		for b.Loop() {
			enc, _ := itemsToProto(items, readSet{true, true, true, true})
			resp, err := c.score(ctx, &pb.ScoreRequest{Items: enc})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := scoresFromProto(resp.Scores, len(items), core.RewardInfo{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, bc := range []struct {
		name, mode string
		noTLS      bool
	}{
		{"subprocess-mtls-reads2", "ok", false},
		{"subprocess-mtls-allfields", "ok-all", false},
		{"subprocess-plain-allfields", "ok-all", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg, _, _ := testConfig(b, bc.mode)
			cfg.DisableAutoMTLS = bc.noTLS
			r := openT(b, cfg)
			for b.Loop() {
				if _, err := r.Score(ctx, items); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
