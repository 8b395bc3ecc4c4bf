package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// Several processes may share one run directory (the array tasks of a
// cluster job, each running `bench run --trial ID`) and one base-model
// cache (GRAO_BASE_CACHE). File locks (flock, which NFS and Lustre
// clients support, and which the kernel releases when a process dies
// however it dies) keep them apart:
//
//   - building a base model: one process pre-trains it, the others wait
//     and then load what it saved (lockWait on <base dir>.lock);
//   - results.csv: read-merge-write under DIR/.results.lock, so the last
//     trial to finish writes a table holding every finished trial;
//   - a trial: one process at a time (runs/<id>/.lock), so a resubmitted
//     job cannot run a trial that is still running elsewhere;
//   - a whole run (`bench run` without --trial): one process per
//     directory (DIR/.run.lock).

// ErrLocked means another process holds a lock this one does not wait for.
var ErrLocked = errors.New("in use by another process")

// lockPoll is how often a waiting process retries a held lock.
const lockPoll = 200 * time.Millisecond

// fileLock is a held lock; Unlock releases it.
type fileLock struct{ fl *flock.Flock }

func (l *fileLock) Unlock() {
	if l != nil && l.fl != nil {
		l.fl.Unlock()
	}
}

// lockWait takes the exclusive lock on path, waiting (until ctx ends) for
// the process that holds it; waiting, if set, is called once before the
// wait with the holder's pid (0 if unknown).
func lockWait(ctx context.Context, path string, waiting func(holder int)) (*fileLock, error) {
	l := flock.New(path)
	ok, err := tryLock(l)
	if err != nil {
		return nil, err
	}
	if ok {
		return &fileLock{l}, nil
	}
	if waiting != nil {
		waiting(lockHolder(path))
	}
	if _, err := l.TryLockContext(ctx, lockPoll); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	writePid(path)
	return &fileLock{l}, nil
}

// lockNow takes the exclusive lock on path or fails at once with
// ErrLocked, naming the holder.
func lockNow(path, what string) (*fileLock, error) {
	l := flock.New(path)
	ok, err := tryLock(l)
	if err != nil {
		return nil, err
	}
	if !ok {
		holder := "another process"
		if pid := lockHolder(path); pid > 0 {
			holder = fmt.Sprintf("process %d", pid)
		}
		return nil, fmt.Errorf("%s is %w (%s holds %s)", what, ErrLocked, holder, path)
	}
	return &fileLock{l}, nil
}

// tryLock takes l's lock if it is free, creating the lock file's
// directory first.
func tryLock(l *flock.Flock) (bool, error) {
	if err := os.MkdirAll(filepath.Dir(l.Path()), 0o755); err != nil {
		return false, err
	}
	ok, err := l.TryLock()
	if err != nil {
		return false, fmt.Errorf("%s: %w", l.Path(), err)
	}
	if ok {
		writePid(l.Path())
	}
	return ok, nil
}

// writePid records the holder in the lock file, for the messages of the
// processes that find it held. The lock is on the file, not its content.
func writePid(path string) {
	_ = os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}

func lockHolder(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// lockRun takes a run directory for a whole run (not for --trial, whose
// processes share it), failing at once if another run holds it: two runs
// writing one directory would mark each other's trials interrupted.
func lockRun(opts Options) (func(), error) {
	if len(opts.Only) > 0 || opts.Base != "" || opts.locked {
		return func() {}, nil
	}
	l, err := lockNow(filepath.Join(opts.Out, ".run.lock"), "run directory "+opts.Out)
	if err != nil {
		return nil, err
	}
	return l.Unlock, nil
}
