package main

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/plugins"
)

// With this variable set the test binary is the plugin itself, so the
// subprocess test needs no `go build`.
const envAsPlugin = "GRAO_KEYWORD_EXAMPLE_AS_PLUGIN"

func TestMain(m *testing.M) {
	if os.Getenv(envAsPlugin) != "" {
		main()
		return
	}
	code := m.Run()
	plugins.CleanupClients()
	os.Exit(code)
}

var cases = []struct {
	name string
	item core.RewardItem
	want core.Score
}{
	{"all found", core.RewardItem{Completion: "Paris is in France."},
		core.Score{Value: 1, Applicable: true, Info: "2/2 keywords"}},
	{"case and punctuation", core.RewardItem{Completion: "PARIS!"},
		core.Score{Value: 0.5, Applicable: true, Info: "1/2 keywords; missing france"}},
	{"whole words only", core.RewardItem{Completion: "Parisian Frances"},
		core.Score{Value: 0, Applicable: true, Info: "0/2 keywords; missing paris, france"}},
	{"meta overrides", core.RewardItem{Completion: "the answer is 42", Meta: map[string]any{"keywords": []any{"42", "the answer"}}},
		core.Score{Value: 1, Applicable: true, Info: "2/2 keywords"}},
	{"phrase must be contiguous", core.RewardItem{Completion: "answer: the 42", Meta: map[string]any{"keywords": []any{"the answer"}}},
		core.Score{Value: 0, Applicable: true, Info: "0/1 keywords; missing the answer"}},
	{"empty list: not applicable", core.RewardItem{Completion: "x", Meta: map[string]any{"keywords": []any{}}},
		core.Score{}},
}

func TestKeyword(t *testing.T) {
	k := &Keyword{Default: []string{"paris", "france"}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := k.Score(context.Background(), []core.RewardItem{tc.item})
			if err != nil {
				t.Fatal(err)
			}
			if got[0] != tc.want {
				t.Errorf("got %+v, want %+v", got[0], tc.want)
			}
		})
	}
}

func TestKeywordBadMeta(t *testing.T) {
	k := &Keyword{}
	for _, meta := range []map[string]any{{"keywords": "paris"}, {"keywords": []any{"a", 3.0}}} {
		_, err := k.Score(context.Background(), []core.RewardItem{{}, {Meta: meta}})
		if err == nil || !strings.HasPrefix(err.Error(), `item 1: meta "keywords"`) {
			t.Errorf("meta %v: err = %v", meta, err)
		}
	}
}

// TestAsPlugin runs the example as a real plugin process through the host.
func TestAsPlugin(t *testing.T) {
	r, err := plugins.Open(plugins.Config{
		Name:    "keyword",
		Path:    os.Args[0],
		Args:    []string{"-keywords", "paris, france"},
		Env:     []string{envAsPlugin + "=1"},
		Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := r.Describe(); !reflect.DeepEqual(got, (&Keyword{}).Describe()) {
		t.Errorf("Describe = %+v", got)
	}
	items := make([]core.RewardItem, len(cases))
	for i, tc := range cases {
		items[i] = tc.item
	}
	got, err := r.Score(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		if got[i] != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got[i], tc.want)
		}
	}
}
