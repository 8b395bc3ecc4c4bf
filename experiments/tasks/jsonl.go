package tasks

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/rewards"
)

// JSONL dataset format: one JSON object per line with the keys
//
//	"prompt"   string, required, ends with "Assistant:" (HH convention)
//	"chosen"   string, required, non-empty: the reference answer y
//	"rejected" string, required, non-empty, different from chosen
//	"meta"     object, optional: passed to rewards as RewardItem.Meta
//
// Any other key, a repeated key, or trailing data on the line is an error.
// Blank lines are skipped. The meta keys "chosen" and "rejected" are
// reserved (FromJSONL stores the pair there for the overlap judge).
// Lines are limited to MaxLineBytes.

// MaxLineBytes bounds one JSONL line (1 MiB).
const MaxLineBytes = 1 << 20

// LineError is a problem with one line of a dataset file (line 0: with
// the whole file).
type LineError = core.InputError

// ParseJSONL reads and validates a whole dataset; file names the source
// in errors. It stops at the first bad line.
func ParseJSONL(r io.Reader, file string) ([]core.Example, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out []core.Example
	for line := 1; ; line++ {
		raw, err := readLine(br)
		if errors.Is(err, errLineTooLong) {
			return nil, &LineError{File: file, Line: line, Reason: fmt.Sprintf("line longer than %d bytes", MaxLineBytes)}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, &LineError{File: file, Line: line, Reason: "read: " + err.Error()}
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			ex, perr := parseLine(raw)
			if perr != nil {
				return nil, &LineError{File: file, Line: line, Reason: perr.Error()}
			}
			out = append(out, ex)
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if len(out) == 0 {
		return nil, &LineError{File: file, Reason: "no examples"}
	}
	return out, nil
}

var errLineTooLong = errors.New("line too long")

// readLine returns one line without its "\n" (and "\r\n"), io.EOF with
// the last line.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > MaxLineBytes+2 {
			return nil, errLineTooLong
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		buf = bytes.TrimSuffix(buf, []byte("\n"))
		buf = bytes.TrimSuffix(buf, []byte("\r"))
		return buf, err
	}
}

var fieldOrder = []string{"prompt", "chosen", "rejected"}

func parseLine(raw []byte) (core.Example, error) {
	var ex core.Example
	if !utf8.Valid(raw) {
		return ex, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return ex, fmt.Errorf("not JSON: %v", jsonErr(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return ex, fmt.Errorf("not a JSON object (starts with %v)", tok)
	}
	seen := map[string]bool{}
	strs := map[string]string{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return ex, fmt.Errorf("bad JSON: %v", jsonErr(err))
		}
		key := kt.(string) // object keys are always strings
		if seen[key] {
			return ex, fmt.Errorf("key %q appears twice", key)
		}
		seen[key] = true
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return ex, fmt.Errorf("bad JSON in %q: %v", key, jsonErr(err))
		}
		switch key {
		case "prompt", "chosen", "rejected":
			var s string
			if err := json.Unmarshal(val, &s); err != nil {
				return ex, fmt.Errorf("%q must be a string", key)
			}
			strs[key] = s
		case "meta":
			if bytes.Equal(bytes.TrimSpace(val), []byte("null")) {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(val, &m); err != nil || m == nil {
				if bytes.HasPrefix(bytes.TrimSpace(val), []byte("{")) && err != nil {
					return ex, fmt.Errorf("%q: %v", key, err)
				}
				return ex, fmt.Errorf("%q must be an object", key)
			}
			for _, k := range []string{rewards.MetaChosen, rewards.MetaRejected} {
				if _, bad := m[k]; bad {
					return ex, fmt.Errorf("meta key %q is reserved", k)
				}
			}
			if len(m) > 0 { // an empty meta is the same as none
				ex.Meta = m
			}
		default:
			return ex, fmt.Errorf("unknown key %q (want prompt, chosen, rejected, meta)", key)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return ex, fmt.Errorf("bad JSON: %v", jsonErr(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ex, errors.New("extra data after the JSON object")
	}
	if _, ok := strs["prompt"]; !ok {
		if c, ok := strs["chosen"]; ok {
			if r, ok := strs["rejected"]; ok {
				p, ca, ra, err := splitHH(c, r)
				if err != nil {
					return ex, err
				}
				strs["prompt"], strs["chosen"], strs["rejected"] = p, ca, ra
			}
		}
	}
	for _, k := range fieldOrder {
		s, ok := strs[k]
		if !ok {
			return ex, fmt.Errorf("missing %q", k)
		}
		if strings.TrimSpace(s) == "" {
			return ex, fmt.Errorf("%q is empty", k)
		}
	}
	ex.Prompt, ex.Chosen, ex.Rejected = strs["prompt"], strs["chosen"], strs["rejected"]
	if !strings.HasSuffix(strings.TrimRight(ex.Prompt, " \t\r\n"), "Assistant:") {
		return ex, errors.New(`"prompt" must end with "Assistant:" (HH convention: "Human: …\nAssistant:")`)
	}
	if ex.Chosen == ex.Rejected {
		return ex, errors.New(`"chosen" and "rejected" are identical`)
	}
	return ex, nil
}

// hhAssistant opens an assistant turn in Anthropic's HH-RLHF transcripts.
const hhAssistant = "\n\nAssistant:"

// splitHH reads a line of Anthropic's HH-RLHF as published: no prompt, and
// chosen and rejected each a whole transcript of "\n\nHuman: …" and
// "\n\nAssistant: …" turns that differ in the last assistant turn only.
// The prompt is the shared transcript up to and including the last
// "\n\nAssistant:" (earlier turns included), the answers what follows it.
func splitHH(chosen, rejected string) (prompt, c, r string, err error) {
	i := strings.LastIndex(chosen, hhAssistant)
	if i < 0 {
		return "", "", "", errors.New(`no "prompt", and "chosen" is not an HH-RLHF transcript (it has no "\n\nAssistant:" turn)`)
	}
	prompt = chosen[:i+len(hhAssistant)]
	if !strings.HasPrefix(rejected, prompt) || strings.Contains(rejected[len(prompt):], hhAssistant) {
		n := 0
		for n < len(prompt) && n < len(rejected) && prompt[n] == rejected[n] {
			n++
		}
		return "", "", "", fmt.Errorf(`HH-RLHF transcripts: "rejected" must repeat "chosen" up to its last "\n\nAssistant:" and differ only after it (they differ at byte %d)`, n)
	}
	return prompt, chosen[len(prompt):], rejected[len(prompt):], nil
}

func jsonErr(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of line"
	}
	return err.Error()
}

// WriteJSONL writes examples in the dataset format, one per line, without
// HTML escaping. Meta keys that FromJSONL added (the pair itself) are left
// out so the output parses again.
func WriteJSONL(w io.Writer, examples []core.Example) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, ex := range examples {
		meta := ex.Meta
		if _, ok := meta[rewards.MetaChosen]; ok {
			meta = make(map[string]any, len(ex.Meta))
			for k, v := range ex.Meta {
				if k != rewards.MetaChosen && k != rewards.MetaRejected {
					meta[k] = v
				}
			}
			if len(meta) == 0 {
				meta = nil
			}
		}
		if err := enc.Encode(core.Example{Prompt: ex.Prompt, Chosen: ex.Chosen, Rejected: ex.Rejected, Meta: meta}); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// FromJSONL loads a user's dataset as a task.
//
// Split: examples are grouped by prompt (so a prompt never lands in both
// splits), the groups are shuffled with PCG(seed, 4), and whole groups go
// to eval until it holds round(evalFraction·n) examples (at least one);
// the rest is train, in file order. Same file and seed ⇒ same split.
//
// Judge: if every example's meta.task names the same built-in task, that
// task's rubric is used (an exported built-in task keeps its judge);
// otherwise rewards.OverlapRubric, with the pair stored in each example's
// meta under "chosen"/"rejected" (documented there: word-F1 towards chosen
// and away from rejected).
//
// Corpus: prompt+chosen and prompt+rejected for every train example
// (50% good, 50% bad), shuffled with PCG(seed, 3).
//
// Options: WithTieMargin.
func FromJSONL(path string, seed uint64, evalFraction float64, opts ...Option) (core.Task, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", path, err)
	}
	if !(evalFraction > 0 && evalFraction < 1) {
		return nil, fmt.Errorf("task %s: eval fraction must be in (0, 1), got %v", path, evalFraction)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &LineError{File: path, Reason: err.Error()}
	}
	defer f.Close()
	exs, err := ParseJSONL(f, path)
	if err != nil {
		return nil, err
	}
	return fromExamples(path, exs, seed, evalFraction, c)
}

func fromExamples(name string, exs []core.Example, seed uint64, evalFraction float64, c config) (*task, error) {
	scorer := rewards.OverlapRubric()
	var dense core.Reward
	if t, ok := commonBuiltin(exs); ok {
		if t == Skills {
			scorer, dense = rewards.AnswerRubric(), rewards.PartialAnswerRubric("")
		} else {
			scorer, dense = builtins[t].scorer(), denseFor(t)
		}
	} else {
		for i := range exs {
			m := make(map[string]any, len(exs[i].Meta)+2)
			for k, v := range exs[i].Meta {
				m[k] = v
			}
			m[rewards.MetaChosen], m[rewards.MetaRejected] = exs[i].Chosen, exs[i].Rejected
			exs[i].Meta = m
		}
	}

	var order []string
	groups := map[string][]int{}
	for i, ex := range exs {
		if _, ok := groups[ex.Prompt]; !ok {
			order = append(order, ex.Prompt)
		}
		groups[ex.Prompt] = append(groups[ex.Prompt], i)
	}
	if len(order) < 2 {
		return nil, &LineError{File: name, Reason: fmt.Sprintf("need at least 2 distinct prompts to split train/eval, have %d", len(order))}
	}
	r := rand.New(rand.NewPCG(seed, streamSplit))
	r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	want := max(1, int(evalFraction*float64(len(exs))+0.5))
	inEval, inDev := map[string]bool{}, map[string]bool{}
	n, rest := 0, order[:len(order)-1] // keep at least one prompt for train
	for len(rest) > 0 && n < want {
		inEval[rest[0]] = true
		n += len(groups[rest[0]])
		rest = rest[1:]
	}
	// The dev split takes the next whole prompt groups, so train, dev and
	// eval never share a prompt.
	for n = 0; len(rest) > 0 && n < c.dev; rest = rest[1:] {
		inDev[rest[0]] = true
		n += len(groups[rest[0]])
	}
	if c.dev > 0 && n < c.dev {
		return nil, &LineError{File: name, Reason: fmt.Sprintf("only %d examples left for a dev split of %d", n, c.dev)}
	}
	t := &task{name: name, dense: dense}
	for _, ex := range exs {
		switch {
		case inEval[ex.Prompt]:
			t.eval = append(t.eval, ex)
		case inDev[ex.Prompt]:
			t.dev = append(t.dev, ex)
		default:
			t.train = append(t.train, ex)
		}
	}
	for _, ex := range t.train {
		t.corpus = append(t.corpus, ex.Prompt+ex.Chosen, ex.Prompt+ex.Rejected)
	}
	cr := rand.New(rand.NewPCG(seed, streamCorpus))
	cr.Shuffle(len(t.corpus), func(i, j int) { t.corpus[i], t.corpus[j] = t.corpus[j], t.corpus[i] })
	judge, err := rewards.NewJudge(scorer, c.margin)
	if err != nil {
		return nil, err
	}
	t.judge, t.scorer = judge, scorer
	return t, nil
}

// commonBuiltin reports the built-in task named by every example's
// meta.task, if they all agree.
func commonBuiltin(exs []core.Example) (string, bool) {
	var name string
	for i, ex := range exs {
		t, _ := ex.Meta[rewards.MetaTask].(string)
		if _, ok := builtins[t]; (!ok && t != Skills) || (i > 0 && t != name) {
			return "", false
		}
		name = t
	}
	return name, true
}
