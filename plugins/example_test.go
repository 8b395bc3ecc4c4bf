package plugins_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/plugins"
)

// shout is a reward worth 1 for completions in capitals.
type shout struct{}

func (shout) Describe() core.RewardInfo {
	return core.RewardInfo{Name: "shout", Version: "1", Reads: []string{"completion"}, Deterministic: true, Max: 1}
}

func (shout) Score(_ context.Context, items []core.RewardItem) ([]core.Score, error) {
	out := make([]core.Score, len(items))
	for i, it := range items {
		if it.Completion == strings.ToUpper(it.Completion) {
			out[i].Value = 1
		}
		out[i].Applicable = true
	}
	return out, nil
}

// A complete Go reward plugin: build it as its own binary (package main,
// func main) and name the binary in a sweep.
func ExampleServe() {
	plugins.Serve(shout{})
}

// A host opens a plugin, scores batches and closes it. (Here the plugin is
// this test binary in its "ok" role: the completion's length in bytes.)
func ExampleOpen() {
	defer plugins.CleanupClients()
	r, err := plugins.Open(plugins.Config{
		Name: "len",
		Path: os.Args[0],
		Env:  []string{"GRAO_PLUGINS_TEST_MODE=ok"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	scores, err := r.Score(context.Background(), []core.RewardItem{{Completion: "hello"}, {Completion: ""}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Describe().Name, scores)
	// Output: len [{5 true len=5} {0 false }]
}
