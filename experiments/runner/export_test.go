package runner

// SetAfterCheckpoint sets a function called after each mid-trial
// checkpoint, so a test can kill a trial at a known point.
func SetAfterCheckpoint(f func(id string, step int)) { afterCheckpoint = f }

// LockedBuffer is an io.Writer safe for concurrent writers, for tests of
// logs written from several goroutines.
type LockedBuffer = lockedBuffer
