package helper

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/podunit/podunit/podlog"
)

// The kubelet's bounds on a termination message: what the file holds (4 KiB
// read), and the end of the log under FallbackToLogsOnError (the last 80
// lines, at most 2 KiB of them).
const (
	maxMessage         = 4 << 10
	maxLogMessage      = 2 << 10
	maxLogMessageLines = 80
)

// resetMessage gives a new run an empty termination message file, writable
// by whatever user the container runs as (the kubelet makes it 0666).
func (t *task) resetMessage() error {
	if t.c.Message == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(t.c.Message), 0o700); err != nil {
		return fmt.Errorf("the termination message's directory: %w", err)
	}
	if err := os.WriteFile(t.c.Message, nil, 0o666); err != nil {
		return fmt.Errorf("the termination message file: %w", err)
	}
	// WriteFile's mode passes through the umask
	if err := os.Chmod(t.c.Message, 0o666); err != nil {
		return fmt.Errorf("the termination message file: %w", err)
	}
	return nil
}

// message is the termination message of the run that ended: what the
// container wrote at its terminationMessagePath, or, under
// FallbackToLogsOnError, the end of its log when it failed without writing
// one.
func (t *task) message(failed bool) string {
	if t.c.Message == "" {
		return ""
	}
	msg := readAtMost(t.c.Message, maxMessage)
	if msg == "" && failed && t.c.MessageFromLog && t.c.Log != "" {
		msg = logTail(t.c.Log, maxLogMessageLines, maxLogMessage)
	}
	return msg
}

func readAtMost(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, n))
	return string(b)
}

// logTail is the text of the last lines of a container's log, its last max
// bytes when longer.
func logTail(path string, lines, max int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	entries, err := podlog.Read(f)
	if err != nil && !errors.Is(err, io.EOF) && len(entries) == 0 {
		return ""
	}
	var b strings.Builder
	for _, e := range podlog.Select(entries, podlog.Options{Tail: lines}) {
		b.WriteString(e.Text)
		b.WriteByte('\n')
	}
	s := b.String()
	if len(s) > max {
		s = s[len(s)-max:]
	}
	return s
}
