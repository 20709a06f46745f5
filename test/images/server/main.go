// Command server is the only program of the test image localhost/podunit-test/server:
// an HTTP server with no shell and no HTTP client beside it, so httpGet hooks and
// probes are shown to work from outside the container. Every request is appended
// to the log file as "METHOD PATH reason=<X-Podunit-Stop-Reason>", every signal
// as "signal NAME".
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", ":8080", "address")
	logPath := flag.String("log", "", "append requests and signals to this file")
	ignoreTerm := flag.Bool("ignore-term", false, "do not exit on SIGTERM")
	flag.Parse()

	var mu sync.Mutex
	record := func(format string, a ...any) {
		if *logPath == "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(*logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o666)
		if err != nil {
			return
		}
		fmt.Fprintf(f, format+"\n", a...)
		f.Close()
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		record("%s %s reason=%s", r.Method, r.URL.Path, r.Header.Get("X-Podunit-Stop-Reason"))
		switch r.URL.Path {
		case "/fail":
			http.Error(w, "failing on purpose", http.StatusInternalServerError)
		case "/slow":
			s, _ := strconv.Atoi(r.URL.Query().Get("s"))
			time.Sleep(time.Duration(s) * time.Second)
			fmt.Fprintln(w, "slow")
		case "/bytes": // n bytes out of the pod
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			w.Header().Set("Content-Length", strconv.Itoa(n))
			buf := make([]byte, 32*1024)
			for n > 0 {
				k := min(n, len(buf))
				if _, err := w.Write(buf[:k]); err != nil {
					return
				}
				n -= k
			}
		case "/sink": // a body into the pod; answers how many bytes it read
			n, _ := io.Copy(io.Discard, r.Body)
			fmt.Fprintln(w, n)
		case "/quit":
			fmt.Fprintln(w, "bye")
			go func() { time.Sleep(100 * time.Millisecond); record("quit"); os.Exit(0) }()
		default:
			fmt.Fprintln(w, "ok")
		}
	})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
	go func() {
		for s := range sigs {
			record("signal %s", s)
			if s == syscall.SIGTERM && *ignoreTerm {
				continue
			}
			os.Exit(0)
		}
	}()
	record("start")
	if err := http.ListenAndServe(*listen, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
