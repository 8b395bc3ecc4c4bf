package sweep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics; every error is an *Error with the file
// name and a line within the input; a sweep that parses expands, and its
// trials survive EncodeTrial/DecodeTrial.
//
//	go test ./experiments/sweep -run XXX -fuzz FuzzParse -fuzztime 30s
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../*.toml")
	files = append(files, "testdata/small.toml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(minimal)
	f.Add(tricky)
	f.Add(minimal + "[sweep]\n\"train.steps\" = [1, 2]\n\"model.preset\" = [\"tiny\"]\n")
	f.Add(minimal + "[reward]\nkind = \"combine\"\n[[reward.part]]\nkind = \"length\"\ntarget = 3\n")
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return // the grid could explode; sizes of real files are far below
		}
		s, err := Parse([]byte(src), "f.toml")
		if err != nil {
			if s != nil {
				t.Fatal("sweep returned with an error")
			}
			es := Errors(err)
			if len(es) == 0 {
				t.Fatalf("error without *Error: %v", err)
			}
			nl := strings.Count(src, "\n") + 2
			for _, e := range es {
				if e.File != "f.toml" || e.Line < 0 || e.Line > nl || e.Reason == "" {
					t.Fatalf("bad error %#v", e)
				}
			}
			return
		}
		n := len(s.Seeds) * len(s.Algorithms)
		for _, v := range s.Grid {
			n *= len(v)
		}
		if n > 2000 {
			return
		}
		trials, err := s.Expand()
		if err != nil {
			t.Fatalf("parsed but does not expand: %v", err)
		}
		for _, tr := range trials {
			b, err := EncodeTrial(tr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := DecodeTrial(b, "c.toml"); err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
		}
	})
}
