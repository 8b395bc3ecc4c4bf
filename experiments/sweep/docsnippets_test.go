package sweep

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// snippetBase is the smallest complete sweep: a documented snippet is
// validated as if written into it, so a fragment (a [reward] table, one
// [[algorithm]]) is checked with everything else valid.
const snippetBase = `
name = "doc-snippet"
seeds = [1]
[model]
preset = "tiny"
[task]
name = "arith"
digits = 1
train_size = 200
eval_size = 40
[pretrain]
steps = 10
[train]
steps = 2
prompts = 2
max_new_tokens = 16
[eval]
prompts = 8
max_new_tokens = 16
[[algorithm]]
name = "sft"
`

// fileKeys name files a snippet may point to that exist on the author's
// machine only (a plugin, a dataset, a checkpoint): a missing file there is
// not a documentation error, a wrong key or value is.
var fileKeys = regexp.MustCompile(`(^|\.)(path|checkpoint)$|^task\.name$`)

// TestDocumentedSnippets validates every TOML block of the repository's
// Markdown files with the sweep validator, not just a TOML parser: the
// keys, the values and the schema a user copies must be the ones a sweep
// accepts. It runs in the repository root, where the docs' relative paths
// point. Blocks of other files' formats (a trial's config.toml) carry
// <!-- not a sweep --> on the line before them; the tutorial's files
// (<!-- file: … -->) are built and run by cmd/bench/cli's TestTutorial.
func TestDocumentedSnippets(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	var base map[string]any
	if _, err := toml.Decode(snippetBase, &base); err != nil {
		t.Fatal(err)
	}
	checked := 0
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "runs" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".md") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		for _, b := range tomlBlocks(t, path) {
			where := rel + ":" + strconv.Itoa(b.line)
			var m map[string]any
			if _, err := toml.Decode(b.text, &m); err != nil {
				t.Errorf("%s: not TOML: %v", where, err)
				continue
			}
			merged := map[string]any{}
			for k, v := range base {
				merged[k] = v
			}
			for k, v := range m {
				// A snippet's task replaces the base's (its keys depend on the
				// task's name); other tables merge key by key.
				if sub, ok := v.(map[string]any); ok && k != "task" {
					if bsub, ok := merged[k].(map[string]any); ok {
						both := map[string]any{}
						for kk, vv := range bsub {
							both[kk] = vv
						}
						for kk, vv := range sub {
							both[kk] = vv
						}
						v = both
					}
				}
				merged[k] = v
			}
			var buf bytes.Buffer
			if err := toml.NewEncoder(&buf).Encode(merged); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "snippet.toml")
			os.WriteFile(file, buf.Bytes(), 0o644)
			checked++
			s, err := ParseFile(file)
			if err == nil {
				_, err = s.Expand()
			}
			for _, e := range Errors(err) {
				if fileKeys.MatchString(stripIndex(e.Key)) {
					continue
				}
				t.Errorf("%s: the documented snippet does not validate: %s: %s", where, e.Key, e.Reason)
			}
			if err != nil && len(Errors(err)) == 0 {
				t.Errorf("%s: %v", where, err)
			}
		}
		return nil
	})
	if checked < 5 {
		t.Errorf("only %d TOML snippets found: the walk is broken", checked)
	}
}

type block struct {
	line int
	text string
}

// tomlBlocks returns the ```toml blocks of a Markdown file, except those
// marked <!-- not a sweep --> or <!-- file: … -->.
func tomlBlocks(t *testing.T, path string) []block {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []block
	sc := bufio.NewScanner(bytes.NewReader(data))
	var cur *block
	var body []string
	prev := ""
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.text = strings.Join(body, "\n") + "\n"
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body = append(body, line)
		case strings.TrimSpace(line) == "```toml" && !strings.Contains(prev, "not a sweep") && !strings.Contains(prev, "<!-- file:"):
			cur, body = &block{line: n + 1}, nil
		}
		prev = line
	}
	return out
}

var index = regexp.MustCompile(`\[\d+\]`)

// stripIndex turns reward.part[2].path into reward.part.path.
func stripIndex(key string) string { return index.ReplaceAllString(key, "") }
