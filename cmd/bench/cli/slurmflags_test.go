package cli

import (
	"flag"
	"io"
	"reflect"
	"testing"

	"github.com/grao-lab/grao/experiments/slurm"
	"github.com/grao-lab/grao/experiments/sweep"
)

// The sweep's [slurm] table gives the job settings; flags given on the
// command line override it; --sbatch lines follow the table's.
func TestSlurmSettings(t *testing.T) {
	table := sweep.SlurmSpec{Partition: "cpu", Time: "1:00:00", CPUs: 4, ArrayLimit: 10, Sbatch: []string{"#SBATCH --qos=a"}}
	for _, tc := range []struct {
		name string
		args []string
		want slurm.Options
	}{
		{"table only", nil, slurm.Options{Partition: "cpu", Time: "1:00:00", CPUs: 4, ArrayLimit: 10, Extra: []string{"#SBATCH --qos=a"}}},
		{"flags override", []string{"--partition", "gpu", "--cpus", "8", "--sbatch", "module load x", "--wait"},
			slurm.Options{Partition: "gpu", Time: "1:00:00", CPUs: 8, ArrayLimit: 10, Extra: []string{"#SBATCH --qos=a", "module load x"}, Wait: true}},
	} {
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var so slurm.Options
		fs.StringVar(&so.Partition, "partition", "", "")
		fs.IntVar(&so.CPUs, "cpus", 2, "")
		var extra setFlag
		fs.Var(&extra, "sbatch", "")
		fs.BoolVar(&so.Wait, "wait", false, "")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if got := slurmSettings(table, so, extra, fs); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	// Without a table, the flags' defaults.
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var so slurm.Options
	fs.IntVar(&so.CPUs, "cpus", 2, "")
	fs.Parse(nil)
	if got := slurmSettings(sweep.SlurmSpec{}, so, nil, fs); got.CPUs != 2 || len(got.Extra) != 0 {
		t.Errorf("no table: %+v", got)
	}
}
