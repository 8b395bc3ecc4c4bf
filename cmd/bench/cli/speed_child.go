package cli

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/grao-lab/grao/kernels"
)

// Every measurement of bench speed runs in a fresh process, grao's as well
// as PyTorch's: each side's peak RSS is then its own (a process's high-water
// mark never comes down), and nothing of one side runs while the other is
// measured. A Go process that has just used OpenBLAS keeps its threads
// spinning for a while, and on two cores that alone halved PyTorch's
// throughput when both sides shared one process tree.
//
// The child is this same executable (bench, or a test binary), told what to
// measure by speedChildEnv; the init below takes over before main or
// TestMain, with every package initialised, and prints one JSON result.

// speedChildEnv carries a speedJob to a child process.
const speedChildEnv = "GRAO_SPEED_CHILD"

// speedJob is one measurement in a child process.
type speedJob struct {
	Kind      string `json:"kind"` // "grao" | "peak"
	Model     string `json:"model,omitempty"`
	BLAS      string `json:"blas,omitempty"`
	Device    string `json:"device,omitempty"`
	Steps     int    `json:"steps,omitempty"`
	Batch     int    `json:"batch,omitempty"`
	NewTokens int    `json:"new_tokens,omitempty"`
}

// speedResult is what a child prints.
type speedResult struct {
	Rows []speedRow `json:"rows,omitempty"`
	Peak *peakProbe `json:"peak,omitempty"`
}

func init() {
	if job, ok := os.LookupEnv(speedChildEnv); ok {
		os.Exit(runSpeedChild(job))
	}
}

func runSpeedChild(raw string) int {
	var job speedJob
	res, err := func() (speedResult, error) {
		if err := json.Unmarshal([]byte(raw), &job); err != nil {
			return speedResult{}, fmt.Errorf("%s: %v", speedChildEnv, err)
		}
		if job.BLAS != "" {
			backends, err := speedBackends(job.BLAS)
			if err != nil {
				return speedResult{}, err
			}
			kernels.Use(backends[0])
		}
		switch job.Kind {
		case "peak":
			p := measurePeak(kernels.Current())
			return speedResult{Peak: &p}, nil
		case "grao":
			mc, err := speedModel(job.Model)
			if err != nil {
				return speedResult{}, err
			}
			rows, err := measureModel(job.Model, mc, job.Device, job.Steps, job.Batch, job.NewTokens)
			return speedResult{Rows: rows}, err
		}
		return speedResult{}, fmt.Errorf("%s: unknown kind %q", speedChildEnv, job.Kind)
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench speed (child):", err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return 1
	}
	return 0
}

// runChild runs cmd (whose stdout is one JSON value), decodes its output
// into v, and returns the child's peak RSS in MiB.
func runChild(cmd *exec.Cmd, v any, what string) (float64, error) {
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("%s: %v\n%s", what, err, lastLines(stderr.String(), 5))
	}
	if err := json.Unmarshal(out, v); err != nil {
		return 0, fmt.Errorf("%s: reading its output: %w", what, err)
	}
	return maxRSSMiB(cmd.ProcessState), nil
}

// maxRSSMiB is a finished process's peak resident set size (Linux reports
// ru_maxrss in KiB).
func maxRSSMiB(ps *os.ProcessState) float64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss) / 1024
	}
	return 0
}

// graoChild measures grao on one model in a fresh process.
func graoChild(job speedJob) ([]speedRow, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(job)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), speedChildEnv+"="+string(b))
	var res speedResult
	rss, err := runChild(cmd, &res, "grao "+job.Model+" on "+cmp.Or(job.Device, job.BLAS))
	if err != nil {
		return nil, err
	}
	if len(res.Rows) == 0 {
		return nil, errors.New("grao " + job.Model + ": the measuring process returned no rows")
	}
	for i := range res.Rows {
		res.Rows[i].PeakRSSMiB = rss
	}
	return res.Rows, nil
}

// peakChild runs the sgemm peak probe in a fresh process.
func peakChild(blas string) (peakProbe, error) {
	exe, err := os.Executable()
	if err != nil {
		return peakProbe{}, err
	}
	b, _ := json.Marshal(speedJob{Kind: "peak", BLAS: blas})
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), speedChildEnv+"="+string(b))
	var res speedResult
	if _, err := runChild(cmd, &res, "sgemm peak probe"); err != nil {
		return peakProbe{}, err
	}
	if res.Peak == nil {
		return peakProbe{}, errors.New("sgemm peak probe: no result")
	}
	return *res.Peak, nil
}
