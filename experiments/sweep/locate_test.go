package sweep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// A document exercising what the scanner must skip without being fooled:
// strings that look like keys or headers, multi-line values, comments.
const tricky = `# [fake] header in a comment
name = "a = b" # key = 1
"quoted.key" = 1
'literal.key' = 2
dotted.inner = 3
text = """
fake = 1
[not.a.table]
""" # end
lit = '''
[[nor.this]]
'''
arr = [
  1, # comment ]
  "]",
  [2, 3],
]
inline = { a = 1, b.c = "}", d = { e = 2 } }
date = 1979-05-27 07:32:00Z

[table]
x = 1
[table.sub]
y = "#"

[[arr_t]]
k = 1
[[arr_t]]
k = 2
[arr_t.nested]
z = 3
[[arr_t.list]]
w = 4

[ "spaced . header" ]
v = 1
`

func TestLocate(t *testing.T) {
	var m map[string]any
	if _, err := toml.Decode(tricky, &m); err != nil {
		t.Fatalf("test document is not valid TOML: %v", err)
	}
	l := locate(tricky)
	cases := []struct {
		segs []string
		line int
	}{
		{[]string{"name"}, 2},
		{[]string{"quoted.key"}, 3},
		{[]string{"literal.key"}, 4},
		{[]string{"dotted", "inner"}, 5},
		{[]string{"dotted"}, 5},
		{[]string{"text"}, 6},
		{[]string{"lit"}, 10},
		{[]string{"arr"}, 13},
		{[]string{"inline"}, 18},
		{[]string{"inline", "b", "c"}, 18},
		{[]string{"inline", "d", "e"}, 18},
		{[]string{"date"}, 19},
		{[]string{"table"}, 21},
		{[]string{"table", "x"}, 22},
		{[]string{"table", "sub", "y"}, 24},
		{[]string{"arr_t", indexSeg(0), "k"}, 27},
		{[]string{"arr_t", indexSeg(1)}, 28},
		{[]string{"arr_t", indexSeg(1), "k"}, 29},
		{[]string{"arr_t", indexSeg(1), "nested", "z"}, 31},
		{[]string{"arr_t", indexSeg(1), "list", indexSeg(0), "w"}, 33},
		{[]string{"spaced . header", "v"}, 36},
		// Not recorded: the nearest recorded ancestor answers.
		{[]string{"table", "missing"}, 21},
		{[]string{"nowhere"}, 0},
	}
	for _, c := range cases {
		if got := l.lineOf(c.segs...); got != c.line {
			t.Errorf("lineOf(%q) = %d, want %d", strings.Join(c.segs, "."), got, c.line)
		}
	}
	for _, fake := range [][]string{{"fake"}, {"not"}, {"nor"}} {
		if _, ok := l.lines[joinPath(fake...)]; ok {
			t.Errorf("recorded %q, which is inside a string", fake)
		}
	}
}

// TestLocateAgreesWithToml: on real files every key toml knows has a line
// whose text mentions the key's last part, and nothing else is recorded.
func TestLocateAgreesWithToml(t *testing.T) {
	files, _ := filepath.Glob("../*.toml")
	files = append(files, "testdata/small.toml")
	docs := []string{tricky}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	for i, doc := range docs {
		md, err := toml.Decode(doc, new(map[string]any))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(doc, "\n")
		l := locate(doc)
		known := map[string]bool{}
		for _, k := range md.Keys() {
			for n := 1; n <= len(k); n++ { // dotted keys define their prefixes
				known[joinPath(k[:n]...)] = true
			}
		}
		for path, ln := range l.lines {
			segs := strings.Split(path, pathSep)
			var plain []string
			for _, s := range segs {
				if !strings.HasPrefix(s, "[") {
					plain = append(plain, s)
				}
			}
			if !known[joinPath(plain...)] {
				t.Errorf("doc %d: recorded %q, which toml does not know", i, plain)
			}
			last := plain[len(plain)-1]
			if ln < 1 || ln > len(lines) || !strings.Contains(lines[ln-1], strings.Split(last, ".")[0]) {
				t.Errorf("doc %d: %q at line %d: %q", i, plain, ln, lines[max(0, min(ln-1, len(lines)-1))])
			}
		}
	}
}
