// Package tensorboard writes training metrics as TensorBoard event files, so
// runs can be watched with the same tool TRL and verl users already have
// open. No maintained Go writer for the format exists, and TensorFlow is not a
// dependency we want, so the format is written here from its definition: the
// TFRecord framing (length, masked CRC-32C of the length, data, masked
// CRC-32C of the data) around Event protocol buffers whose field numbers
// match TensorBoard's (see eventpb).
//
// Only scalars are written, as Summary.Value.simple_value, TensorBoard's
// legacy scalar form that every TensorBoard version still reads. That field
// is a float32, so values are rounded to float32 on write, and a value that
// is NaN or ±Inf, or becomes ±Inf in float32, is dropped rather than written:
// TensorBoard's charts handle non-finite points poorly, and a missing point
// is easier to read than a broken axis.
//
// One Writer owns one file. Records reach the file on Flush and Close, not
// before, so a crash loses at most what was logged since the last Flush;
// Flush is cheap when nothing is pending, so calling it every step is fine.
// Flush does not fsync: TensorBoard reads through the page cache.
//
// Read is the strict counterpart, for tests and tools: it checks every CRC
// and names the record and byte offset of the first fault, which is how a
// torn tail left by a crash is told from corruption.
package tensorboard
