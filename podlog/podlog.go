// Package podlog reads the containers' log files as `kubectl logs` shows
// them. Each run of a container writes its output to a file of its own in
// podman's k8s-file format (the CRI's: "TIME STREAM P|F TEXT", P for a part of
// a longer line); the run helper keeps the run before as the previous file,
// so --previous has something to show after a restart, as on a kubelet.
package podlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Previous is the file that keeps the run before the current one.
func Previous(path string) string {
	return strings.TrimSuffix(path, ".log") + ".previous.log"
}

// Rotate makes room for a new run: the current file becomes the previous one
// (a run that never wrote anything leaves the previous one in place, as the
// restart of a container that printed nothing would otherwise erase it), and
// an empty current file stands for the new run until it writes (podman
// appends to it).
func Rotate(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		if err := os.Rename(path, Previous(path)); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// Entry is one line of output.
type Entry struct {
	Time   time.Time
	Stream string // stdout or stderr
	Text   string // without the newline
}

// Options select and shape the lines, as kubectl logs' flags do.
type Options struct {
	Tail       int       // the last Tail lines only; < 0 for all
	Since      time.Time // lines before it are left out
	Timestamps bool      // each line starts with its time (RFC 3339, nanoseconds)
	Prefix     string    // each line starts with it ("[pod/P/C] ")
}

// parser joins the parts of long lines.
type parser struct {
	partial []byte
	start   time.Time
}

// line reads one line of the file; complete says whether it ended a line of
// the container's output.
func (p *parser) line(raw []byte) (e Entry, complete bool, err error) {
	raw = bytes.TrimSuffix(raw, []byte("\n"))
	f := bytes.SplitN(raw, []byte(" "), 4)
	if len(f) < 3 {
		return e, false, fmt.Errorf("not a k8s-file log line: %.80q", raw)
	}
	ts, err := time.Parse(time.RFC3339Nano, string(f[0]))
	if err != nil {
		return e, false, fmt.Errorf("not a k8s-file log line: %.80q", raw)
	}
	var text []byte
	if len(f) == 4 {
		text = f[3]
	}
	if len(p.partial) == 0 {
		p.start = ts
	}
	p.partial = append(p.partial, text...)
	if string(f[2]) == "P" {
		return e, false, nil
	}
	e = Entry{Time: p.start, Stream: string(f[1]), Text: string(p.partial)}
	p.partial = p.partial[:0]
	return e, true, nil
}

// Read returns the entries of a log file; a line cut short at the end (the
// run still writing it, or killed) is returned as it is.
func Read(r io.Reader) ([]Entry, error) {
	var out []Entry
	fw := &follower{r: r, buf: make([]byte, 64<<10), strict: true,
		emit: func(e Entry) error { out = append(out, e); return nil }}
	if err := fw.drain(); err != nil {
		return out, err
	}
	if len(fw.pending) > 0 { // a last line without its newline
		e, ok, err := fw.p.line(fw.pending)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, e)
		}
	}
	if len(fw.p.partial) > 0 {
		out = append(out, Entry{Time: fw.p.start, Text: string(fw.p.partial)})
	}
	return out, nil
}

// Select applies Since and Tail.
func Select(entries []Entry, o Options) []Entry {
	if !o.Since.IsZero() {
		i := 0
		for i < len(entries) && entries[i].Time.Before(o.Since) {
			i++
		}
		entries = entries[i:]
	}
	if o.Tail >= 0 && len(entries) > o.Tail {
		entries = entries[len(entries)-o.Tail:]
	}
	return entries
}

// Format is one entry as printed.
func Format(e Entry, o Options) string {
	var b strings.Builder
	b.WriteString(o.Prefix)
	if o.Timestamps {
		b.WriteString(e.Time.UTC().Format(time.RFC3339Nano))
		b.WriteByte(' ')
	}
	b.WriteString(e.Text)
	b.WriteByte('\n')
	return b.String()
}

// Print writes the selected lines of one file.
func Print(w io.Writer, path string, o Options) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	entries, err := Read(f)
	for _, e := range Select(entries, o) {
		if _, werr := io.WriteString(w, Format(e, o)); werr != nil {
			return werr
		}
	}
	return err
}

// Follow prints the selected lines of path, then every new line as it comes,
// across restarts of the container: when a new run starts (the file is
// replaced), it finishes the old run's file and goes on with the new one. It
// returns when ctx ends, or when gone says the container is gone for good
// (the pod removed).
func Follow(ctx context.Context, w io.Writer, path string, o Options, poll time.Duration, gone func() bool) error {
	fw := &follower{o: o, buf: make([]byte, 64<<10)}
	fw.emit = func(e Entry) error { _, err := io.WriteString(w, Format(e, o)); return err }
	defer fw.close()
	if f, err := os.Open(path); err == nil {
		// what is there already: selected as without -f (complete lines
		// only: the rest comes with what follows)
		var entries []Entry
		print := fw.emit
		fw.f, fw.r, fw.emit = f, f, func(e Entry) error { entries = append(entries, e); return nil }
		err := fw.drain()
		fw.emit = print
		if err != nil {
			return err
		}
		for _, e := range Select(entries, o) {
			if err := print(e); err != nil {
				return err
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for {
		if fw.f == nil {
			f, err := os.Open(path)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			if f != nil { // nil until the run starts
				fw.f, fw.r = f, f
			}
		}
		if fw.f != nil {
			if err := fw.drain(); err != nil {
				return err
			}
			if replaced(fw.f, path) {
				// the old run wrote its last lines before the new one began
				if err := fw.drain(); err != nil {
					return err
				}
				fw.close()
				continue
			}
		}
		if gone != nil && gone() {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(poll):
		}
	}
}

// follower hands on the lines of a log as they come: of a whole file
// (Read), or of one a run is still writing (Follow).
type follower struct {
	emit    func(Entry) error
	o       Options
	f       *os.File  // the file followed, closed by close
	r       io.Reader // what drain reads: f, or Read's reader
	strict  bool      // a line that is not k8s-file format is an error
	p       parser
	pending []byte
	buf     []byte
}

// drain hands on every complete line written so far.
func (fw *follower) drain() error {
	for {
		n, err := fw.r.Read(fw.buf)
		fw.pending = append(fw.pending, fw.buf[:n]...)
		for {
			i := bytes.IndexByte(fw.pending, '\n')
			if i < 0 {
				break
			}
			e, ok, perr := fw.p.line(fw.pending[:i+1])
			fw.pending = fw.pending[i+1:]
			if perr != nil && fw.strict {
				return perr
			}
			if perr == nil && ok && (fw.o.Since.IsZero() || !e.Time.Before(fw.o.Since)) {
				if werr := fw.emit(e); werr != nil {
					return werr
				}
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if n == 0 || err != nil {
			return nil
		}
	}
}

func (fw *follower) close() {
	if fw.f != nil {
		fw.f.Close()
	}
	fw.f, fw.r, fw.p, fw.pending = nil, nil, parser{}, nil
}

// replaced tells whether path now names another file than f; while no new
// run has begun (the old file moved, no new one yet) it has not been.
func replaced(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return true
	}
	b, err := os.Stat(path)
	if err != nil {
		return false
	}
	return !os.SameFile(a, b)
}
