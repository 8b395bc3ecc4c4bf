package sweep

import (
	"testing"
)

// Naming the default engine changes no trial: IDs stay those of sweeps
// written before engines could be chosen.
func TestDeviceCPUKeepsIDs(t *testing.T) {
	ids := func(sets ...string) []string {
		t.Helper()
		sw, err := ParseWith([]byte(minimal), "s.toml", sets)
		if err != nil {
			t.Fatal(err)
		}
		trials, err := sw.Expand()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tr := range trials {
			out = append(out, tr.ID)
		}
		return out
	}
	plain, cpu := ids(), ids(`train.device="cpu"`)
	if len(plain) == 0 || len(plain) != len(cpu) {
		t.Fatalf("%d and %d trials", len(plain), len(cpu))
	}
	for i := range plain {
		if plain[i] != cpu[i] {
			t.Errorf("trial %d: ID %s with train.device = \"cpu\", %s without", i, cpu[i], plain[i])
		}
	}
}
