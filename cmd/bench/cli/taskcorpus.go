package cli

import "github.com/grao-lab/grao/experiments/tasks"

// taskCorpus returns a built-in task's pre-training corpus.
func taskCorpus(name string, seed uint64) ([]string, error) {
	t, err := tasks.Get(name, seed)
	if err != nil {
		return nil, err
	}
	return t.Corpus(), nil
}
