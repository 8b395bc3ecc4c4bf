package runner

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
)

// Version identifies the grao build that ran a trial: the main module's
// version and the VCS revision the binary was built from (with whether the
// work tree had uncommitted changes). Test binaries and builds outside a
// checkout carry no revision: "unknown".
type Version struct {
	Module   string `json:"module"`
	Revision string `json:"revision"`
	Modified bool   `json:"modified,omitempty"`
}

func (v Version) String() string {
	s := v.Revision
	if len(s) > 12 {
		s = s[:12]
	}
	if v.Modified {
		s += "+uncommitted"
	}
	if v.Module != "" && v.Module != "(devel)" {
		s = v.Module + " " + s
	}
	return s
}

// BuildVersion is this binary's Version.
func BuildVersion() Version {
	v := Version{Revision: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Module = bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// provenanceFile records which build and which sweep a run directory was
// made with, so that --resume does not silently mix two.
const provenanceFile = "provenance.json"

type provenance struct {
	Grao        Version `json:"grao"`
	SweepSHA256 string  `json:"sweep_sha256"`
	// Sets are the --set overrides applied on top of sweep.toml.
	Sets []string `json:"sets,omitempty"`
	// Forced lists the builds and sweeps a forced resume added.
	Forced []provenance `json:"forced,omitempty"`
}

// ErrMismatch means --resume would continue a run with another grao build
// or an edited sweep.
var ErrMismatch = errors.New("resume would mix results")

// checkProvenance, on resume, compares the run's recorded build and sweep
// with this ones, refusing a difference unless forced (then recorded);
// on a fresh run it records them.
func checkProvenance(out string, src []byte, sets []string, resume, force bool) error {
	sum := sha256.Sum256(src)
	cur := provenance{Grao: BuildVersion(), SweepSHA256: hex.EncodeToString(sum[:]), Sets: sets}
	path := filepath.Join(out, provenanceFile)
	var prev provenance
	data, err := os.ReadFile(path)
	switch {
	case err == nil && resume:
		if err := json.Unmarshal(data, &prev); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		var why []string
		if prev.Grao != cur.Grao {
			why = append(why, fmt.Sprintf("the run was made by grao %s, this is grao %s", prev.Grao, cur.Grao))
		}
		if prev.SweepSHA256 != cur.SweepSHA256 {
			old, _ := os.ReadFile(filepath.Join(out, "sweep.toml"))
			why = append(why, "the sweep file changed since the run began:\n"+lineDiff(string(old), string(src)))
		}
		if !slices.Equal(prev.Sets, cur.Sets) {
			var d []string
			for _, x := range prev.Sets {
				d = append(d, "- --set "+x)
			}
			for _, x := range cur.Sets {
				d = append(d, "+ --set "+x)
			}
			why = append(why, "the --set overrides changed since the run began:\n"+strings.Join(d, "\n"))
		}
		if len(why) == 0 {
			return nil
		}
		if !force {
			return fmt.Errorf("%s: %w: %s\n(use --force to resume anyway, or another --out)", out, ErrMismatch, strings.Join(why, "; "))
		}
		prev.Forced = append(prev.Forced, provenance{Grao: cur.Grao, SweepSHA256: cur.SweepSHA256, Sets: cur.Sets})
		cur = prev
	case err == nil:
		return nil // not resuming: start refuses an existing run
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	raw, err := json.MarshalIndent(cur, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(raw, '\n'))
}

// RunSets returns the --set overrides a run directory was made with
// (recorded in provenance.json; none for a run made without, or before
// they existed), so that tools reading the run's sweep.toml see the sweep
// that ran.
func RunSets(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, provenanceFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p provenance
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, provenanceFile), err)
	}
	return p.Sets, nil
}

// lineDiff lists the lines only in a ("- ") and only in b ("+ "), in the
// order of a longest common subsequence.
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var buf bytes.Buffer
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			i++
			j++
		case j < len(y) && (i == len(x) || lcs[i][j+1] > lcs[i+1][j]):
			fmt.Fprintf(&buf, "+ %s\n", y[j])
			j++
		default:
			fmt.Fprintf(&buf, "- %s\n", x[i])
			i++
		}
	}
	return strings.TrimRight(buf.String(), "\n")
}
