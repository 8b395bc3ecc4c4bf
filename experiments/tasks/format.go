package tasks

import "strings"

const (
	humanPrefix     = "Human: "
	assistantSuffix = "\nAssistant:"
	// MaxRequestBytes, MaxAnswerBytes and MaxDocBytes bound the built-in
	// tasks so that a prompt and its answer fit a 128-byte context with
	// room for BOS/EOS.
	MaxRequestBytes = 60
	MaxAnswerBytes  = 40
	MaxDocBytes     = 110
)

// Prompt formats a request: "Human: {request}\nAssistant:".
func Prompt(request string) string { return humanPrefix + request + assistantSuffix }

// Request extracts the request from a single-turn prompt made by Prompt.
func Request(prompt string) (string, bool) {
	if !strings.HasPrefix(prompt, humanPrefix) || !strings.HasSuffix(prompt, assistantSuffix) ||
		len(prompt) < len(humanPrefix)+len(assistantSuffix) {
		return "", false
	}
	return prompt[len(humanPrefix) : len(prompt)-len(assistantSuffix)], true
}

// answer formats a response as it follows a prompt: one leading space.
func answer(s string) string { return " " + s }
