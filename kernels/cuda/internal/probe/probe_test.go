package probe

import "testing"

// The probe must answer, not crash, on any machine: with a GPU it counts
// devices, without one it says why.
func TestProbeAnswers(t *testing.T) {
	r := Probe()
	t.Logf("probe: loaded=%v devices=%d err=%v", r.Loaded, r.Devices, r.Err)
	if (r.Err == nil) != (r.Devices > 0) {
		t.Fatalf("inconsistent result %+v", r)
	}
	if r.Err == nil && !r.Loaded {
		t.Fatalf("devices without a loaded driver: %+v", r)
	}
	if again := Probe(); again != r {
		t.Fatalf("second probe %+v differs from the first %+v", again, r)
	}
}
