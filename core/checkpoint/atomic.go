package checkpoint

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// writeAtomic writes path through fill: into a temporary file in the same
// directory, flushed and fsynced, then renamed over path (renameio), then
// the directory fsynced so the rename itself survives a crash. On any
// error the temporary file is removed and path is untouched: readers see
// the old file or the new one, never half of it.
func writeAtomic(path string, fill func(io.Writer) error) error {
	// Checkpoints are meant to be shared: 0644 whatever the umask.
	t, err := renameio.NewPendingFile(path, renameio.WithStaticPermissions(0o644))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer t.Cleanup()
	bw := bufio.NewWriterSize(t, 1<<20)
	if err := fill(bw); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := t.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir fsyncs a directory so a rename in it is durable. Some file
// systems refuse fsync on directories; that is not worth failing a save.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}
