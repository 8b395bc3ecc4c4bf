package sweep

import (
	"strings"
	"testing"
)

// [slurm] is decoded and checked like any table, and, being an executor
// setting, leaves every trial ID as it was.
func TestSlurmTable(t *testing.T) {
	base, err := ParseWith([]byte(setBase), "s.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	base.Resolve()
	before, err := base.Expand()
	if err != nil {
		t.Fatal(err)
	}
	src := setBase + "[slurm]\npartition = \"gpu\"\ncpus = 8\ngres = \"gpu:1\"\nsbatch = [\"#SBATCH --qos=long\", \"module load cuda\"]\n"
	s, err := ParseWith([]byte(src), "s.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Slurm.Partition != "gpu" || s.Slurm.CPUs != 8 || len(s.Slurm.Sbatch) != 2 {
		t.Errorf("[slurm] = %+v", s.Slurm)
	}
	s.Resolve()
	after, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	for i := range before {
		if before[i].ID != after[i].ID {
			t.Errorf("[slurm] changed trial ID %s to %s", before[i].ID, after[i].ID)
		}
	}
	for _, tc := range []struct{ add, want string }{
		{"[slurm]\ncpus = -1\n", "slurm.cpus"},
		{"[slurm]\narray_limit = -2\n", "slurm.array_limit"},
		{"[slurm]\npartition = \"a b\"\n", "slurm.partition"},
		{"[slurm]\nparition = \"a\"\n", `did you mean "partition"?`},
	} {
		if _, err := ParseWith([]byte(setBase+tc.add), "s.toml", nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.add, err, tc.want)
		}
	}
}
