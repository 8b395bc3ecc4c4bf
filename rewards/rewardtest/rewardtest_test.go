package rewardtest

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/grao-lab/grao/core"
)

// fakeTB records failures instead of failing the real test, so the suite
// itself can be tested against deliberately broken rewards.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	failed bool
	msgs   []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = true
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Logf(string, ...any) {}

func runFake(r core.Reward, items []core.RewardItem) *fakeTB {
	f := &fakeTB{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		Run(f, r, items)
	}()
	wg.Wait()
	return f
}

// fn is a configurable test reward.
type fn struct {
	info  core.RewardInfo
	score func(ctx context.Context, items []core.RewardItem) ([]core.Score, error)
}

func (f fn) Describe() core.RewardInfo { return f.info }
func (f fn) Score(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	return f.score(ctx, items)
}

var goodInfo = core.RewardInfo{Name: "len", Version: "1", Reads: []string{"completion"}, Deterministic: true, Min: 0, Max: 100}

// lenScore is a correct reward: the completion's length.
func lenScore(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]core.Score, len(items))
	for i, it := range items {
		out[i] = core.Score{Value: float64(len(it.Completion)), Applicable: true}
	}
	return out, nil
}

func items() []core.RewardItem {
	return []core.RewardItem{
		{Prompt: "p", Completion: "abc", Meta: map[string]any{"list": []any{"x"}, "m": map[string]any{"k": 1.0}}},
		{Prompt: "p", Completion: "hello world"},
		{Prompt: "p", Completion: ""},
	}
}

func TestRunAcceptsConformingReward(t *testing.T) {
	Run(t, fn{goodInfo, lenScore}, items())
}

func TestRunCatchesBrokenRewards(t *testing.T) {
	calls := 0
	cases := []struct {
		name  string
		info  core.RewardInfo
		score func(context.Context, []core.RewardItem) ([]core.Score, error)
		want  string // substring of a failure message
	}{
		{"too few scores", goodInfo, func(ctx context.Context, it []core.RewardItem) ([]core.Score, error) {
			s, err := lenScore(ctx, it)
			if len(s) > 0 {
				s = s[:len(s)-1]
			}
			return s, err
		}, "scores for"},
		{"ignores cancellation", goodInfo, func(_ context.Context, it []core.RewardItem) ([]core.Score, error) {
			return lenScore(context.Background(), it)
		}, "cancelled context"},
		{"mutates nested meta", goodInfo, func(ctx context.Context, it []core.RewardItem) ([]core.Score, error) {
			for _, x := range it {
				if l, ok := x.Meta["list"].([]any); ok {
					l[0] = "changed"
				}
			}
			return lenScore(ctx, it)
		}, "was modified"},
		{"mutates completion", goodInfo, func(ctx context.Context, it []core.RewardItem) ([]core.Score, error) {
			for i := range it {
				it[i].Completion = strings.ToUpper(it[i].Completion)
			}
			return lenScore(ctx, it)
		}, "was modified"},
		{"out of bounds", core.RewardInfo{Name: "x", Version: "1", Deterministic: true, Min: 0, Max: 5}, lenScore, "outside declared bounds"},
		{"not deterministic", goodInfo, func(ctx context.Context, it []core.RewardItem) ([]core.Score, error) {
			calls++
			s, err := lenScore(ctx, it)
			for i := range s {
				s[i].Value = float64(calls % 7)
			}
			return s, err
		}, "second call"},
		{"depends on the batch", goodInfo, func(ctx context.Context, it []core.RewardItem) ([]core.Score, error) {
			s, err := lenScore(ctx, it)
			for i := range s {
				s[i].Value = float64(len(it))
			}
			return s, err
		}, "one by one"},
		{"depends on position", goodInfo, func(ctx context.Context, it []core.RewardItem) ([]core.Score, error) {
			s, err := lenScore(ctx, it)
			for i := range s {
				s[i].Value = float64(i)
			}
			return s, err
		}, "reversed"},
		{"NaN", goodInfo, func(ctx context.Context, it []core.RewardItem) ([]core.Score, error) {
			s, err := lenScore(ctx, it)
			if len(s) > 0 {
				s[0].Value = math.NaN()
			}
			return s, err
		}, "not finite"},
		{"value when not applicable", goodInfo, func(ctx context.Context, it []core.RewardItem) ([]core.Score, error) {
			s, err := lenScore(ctx, it)
			for i := range s {
				s[i].Applicable = false
				s[i].Value = 1
			}
			return s, err
		}, "not applicable but value"},
		{"empty name", core.RewardInfo{Version: "1", Deterministic: true}, lenScore, "empty Name"},
		{"unknown reads", core.RewardInfo{Name: "x", Version: "1", Reads: []string{"completions"}}, lenScore, "unknown Reads"},
		{"bad bounds", core.RewardInfo{Name: "x", Version: "1", Min: 2, Max: 1}, lenScore, "bad bounds"},
		{"fails", goodInfo, func(context.Context, []core.RewardItem) ([]core.Score, error) {
			return nil, fmt.Errorf("boom")
		}, "boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := runFake(fn{c.info, c.score}, items())
			if !f.failed {
				t.Fatalf("suite passed a broken reward")
			}
			joined := strings.Join(f.msgs, "\n")
			if !strings.Contains(joined, c.want) {
				t.Errorf("failure messages do not mention %q:\n%s", c.want, joined)
			}
		})
	}
}
