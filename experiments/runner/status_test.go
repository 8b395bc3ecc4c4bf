package runner_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofrs/flock"

	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/sweep"
)

// Status tells each state apart from a run directory's files and locks:
// done, failed (a done trial whose eval.json is gone), running (its lock
// held), lost (manifest says running, nobody holds the lock), pending (in
// the plan, never started). Collect rebuilds results.csv from it.
func TestStatusAndCollect(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	src := strings.Replace(strings.Split(sweepHead, "[reward]")[0], "seeds = [1]", "seeds = [1, 2, 3, 4]", 1)
	_, trials := runSweep(t, dir, src)
	out := filepath.Join(dir, "out")
	want, _ := os.ReadFile(filepath.Join(out, "results.csv"))
	sts, err := runner.Status(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts {
		if s.Status != runner.StatusDone {
			t.Fatalf("after the run: %+v", s)
		}
	}
	// The first trial's process died mid-run: manifest running, no lock.
	setStatus := func(id, status string) {
		p := filepath.Join(out, "runs", id, "manifest.json")
		var m map[string]any
		b, _ := os.ReadFile(p)
		json.Unmarshal(b, &m)
		m["status"] = status
		b, _ = json.Marshal(m)
		os.WriteFile(p, b, 0o644)
	}
	setStatus(trials[0].ID, runner.StatusRunning)
	// The second is running in another process.
	setStatus(trials[1].ID, runner.StatusRunning)
	l := flock.New(filepath.Join(out, "runs", trials[1].ID, ".lock"))
	if ok, err := l.TryLock(); !ok || err != nil {
		t.Fatalf("lock: %v %v", ok, err)
	}
	defer l.Unlock()
	// The third lost its eval.json.
	os.Remove(filepath.Join(out, "runs", trials[2].ID, "eval.json"))
	// And the plan gained a trial that never started.
	var plan sweep.Plan
	b, _ := os.ReadFile(filepath.Join(out, "plan.json"))
	json.Unmarshal(b, &plan)
	plan.List = append(plan.List, sweep.PlanTrial{ID: "grpo-s9-00000000", Label: "grpo", Seed: 9})
	b, _ = json.Marshal(plan)
	os.WriteFile(filepath.Join(out, "plan.json"), b, 0o644)

	sts, err = runner.Status(out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range sts {
		got[s.ID] = s.Status
	}
	for id, w := range map[string]string{trials[0].ID: runner.StatusLost, trials[1].ID: runner.StatusRunning,
		trials[2].ID: runner.StatusFailed, trials[3].ID: runner.StatusDone, "grpo-s9-00000000": runner.StatusPending} {
		if got[id] != w {
			t.Errorf("%s: status %q, want %q", id, got[id], w)
		}
	}
	// Collect keeps the finished trials only: the run's table without the
	// third trial's rows.
	trs, err := runner.PlannedTrials(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Collect(out, trs); err != nil {
		t.Fatal(err)
	}
	res, _ := os.ReadFile(filepath.Join(out, "results.csv"))
	if strings.Contains(string(res), trials[2].ID) || !strings.Contains(string(res), trials[3].ID) {
		t.Errorf("collected results.csv:\n%s", res)
	}
	if len(res) >= len(want) {
		t.Errorf("collect kept %d bytes of %d: the unfinished trial's rows are still there", len(res), len(want))
	}
}
