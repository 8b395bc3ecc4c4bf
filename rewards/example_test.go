package rewards_test

import (
	"context"
	"fmt"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/rewards"
)

func ExampleNewJudge() {
	judge, err := rewards.NewJudge(rewards.ArithRubric(), rewards.DefaultTieMargin)
	if err != nil {
		panic(err)
	}
	meta := map[string]any{rewards.MetaAnswer: "85"}
	items := []core.RewardItem{
		{Prompt: "Human: 37+48=?\nAssistant:", Completion: " 85", Reference: " The answer is 85.", Meta: meta},
		{Prompt: "Human: 37+48=?\nAssistant:", Completion: " 84", Reference: " The answer is 85.", Meta: meta},
		{Prompt: "Human: 37+48=?\nAssistant:", Completion: " The answer is 85.", Reference: " The answer is 85.", Meta: meta},
	}
	scores, err := judge.Score(context.Background(), items)
	if err != nil {
		panic(err)
	}
	for _, s := range scores {
		fmt.Println(s.Value)
	}
	// Output:
	// 1
	// -1
	// 0
}

func ExampleCombine() {
	judge, _ := rewards.NewJudge(rewards.ArithRubric(), rewards.DefaultTieMargin)
	length, _ := rewards.LengthPenalty(8, 0.02, 0.2)
	r, _ := rewards.Combine(rewards.Part{Reward: judge, Weight: 1}, rewards.Part{Reward: length, Weight: 1})
	s, _ := r.Score(context.Background(), []core.RewardItem{{
		Prompt:     "Human: 6*7=?\nAssistant:",
		Completion: " Let me think. It is 42, yes.",
		Reference:  " 42",
		Meta:       map[string]any{rewards.MetaAnswer: "42"},
	}})
	fmt.Printf("%.2f %s\n", s[0].Value, r.Describe().Name)
	// Output:
	// -1.20 combine(1*judge(rubric/arith,margin=0.05)+1*length(target=8,per_byte=0.02,max=0.2))
}
