// Command server is the only program of the test image localhost/podunit-test/server:
// an HTTP server with no shell and no HTTP client beside it, so httpGet hooks and
// probes are shown to work from outside the container. Every request is appended
// to the log file as "METHOD PATH reason=<X-Podunit-Stop-Reason>", every signal
// as "signal NAME". With -grpc it also serves the standard gRPC health service,
// SERVING until a request to /grpc/not-serving (or /grpc/serving) changes it.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func main() {
	listen := flag.String("listen", ":8080", "address")
	logPath := flag.String("log", "", "append requests and signals to this file")
	ignoreTerm := flag.Bool("ignore-term", false, "do not exit on SIGTERM")
	grpcListen := flag.String("grpc", "", "serve the gRPC health service on this address")
	flag.Parse()

	hs := health.NewServer()
	if *grpcListen != "" {
		l, err := net.Listen("tcp", *grpcListen)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		srv := grpc.NewServer()
		healthpb.RegisterHealthServer(srv, hs)
		go srv.Serve(l)
	}

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
		case "/hostname": // which pod answered
			h, _ := os.Hostname()
			fmt.Fprintln(w, h)
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
		case "/grpc/not-serving":
			hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
			fmt.Fprintln(w, "not serving")
		case "/grpc/serving":
			hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
			fmt.Fprintln(w, "serving")
		case "/headers": // the request's headers, one per line
			for k, vs := range r.Header {
				for _, v := range vs {
					fmt.Fprintf(w, "%s: %s\n", k, v)
				}
			}
			record("headers Authorization=%s Accept=%s", r.Header.Get("Authorization"), r.Header.Get("Accept"))
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
