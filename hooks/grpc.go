package hooks

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// GRPCCheck asks the standard gRPC health service (grpc.health.v1.Health) at
// the pod's loopback for the status of g.Service; SERVING is success. As the
// kubelet's, it uses no TLS.
//
// One unary call is an HTTP/2 POST of one length-prefixed protobuf message,
// answered by one message and the call's status in the trailers; it is made
// with net/http's own HTTP/2 (prior knowledge, no TLS), on a connection of its
// own, closed after, so that a prober carries no gRPC library (whose code and
// start-up would be most of its memory) and keeps no connection open.
func GRPCCheck(ctx context.Context, g *GRPC) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(g.Port))
	what := "grpc " + addr
	if g.Service != "" {
		what += " service " + strconv.Quote(g.Service)
	}
	st, msg, err := grpcHealthCall(ctx, addr, g.Service)
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("%s: no answer in time", what)
	case err != nil:
		return fmt.Errorf("%s: %v", what, err)
	case msg != "":
		return fmt.Errorf("%s: %s", what, msg)
	case st != healthServing:
		return fmt.Errorf("%s: status %s", what, healthStatusName(st))
	}
	return nil
}

// The health service's statuses (grpc.health.v1.HealthCheckResponse).
const (
	healthUnknown        = 0
	healthServing        = 1
	healthNotServing     = 2
	healthServiceUnknown = 3
)

func healthStatusName(s uint64) string {
	switch s {
	case healthUnknown:
		return "UNKNOWN"
	case healthServing:
		return "SERVING"
	case healthNotServing:
		return "NOT_SERVING"
	case healthServiceUnknown:
		return "SERVICE_UNKNOWN"
	}
	return strconv.FormatUint(s, 10)
}

// gRPC status codes this check names (google.golang.org/grpc/codes spells
// them so).
var grpcCodes = []string{"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
	"AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
	"Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"}

const (
	grpcDeadlineExceeded = 4
	grpcUnimplemented    = 12
)

// grpcHealthCall makes the call. It returns the status the service answered,
// or, when the call itself failed (a gRPC status other than OK), what failed;
// err is for a call that got no gRPC answer at all.
func grpcHealthCall(ctx context.Context, addr, service string) (status uint64, failed string, err error) {
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{DialContext: probeDialer.DialContext, Protocols: &protocols, DisableKeepAlives: true,
		DisableCompression: true}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/grpc.health.v1.Health/Check",
		bytes.NewReader(grpcMessage(healthRequest(service))))
	if err != nil {
		return 0, "", err
	}
	req.Header = http.Header{"Content-Type": {"application/grpc"}, "Te": {"trailers"}, "User-Agent": {ProbeUserAgent}}
	if d, ok := ctx.Deadline(); ok {
		req.Header.Set("Grpc-Timeout", grpcTimeout(time.Until(d)))
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return 0, "", fmt.Errorf("no connection: %v", unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, "", fmt.Errorf("no answer: %v", unwrapURLError(err))
	}
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	// A call that fails at once answers with headers only ("Trailers-Only").
	code, message := resp.Trailer.Get("Grpc-Status"), resp.Trailer.Get("Grpc-Message")
	if code == "" {
		code, message = resp.Header.Get("Grpc-Status"), resp.Header.Get("Grpc-Message")
	}
	n, err := strconv.Atoi(code)
	if err != nil {
		return 0, "", fmt.Errorf("not a gRPC answer (grpc-status %q)", code)
	}
	if m, err := url.PathUnescape(message); err == nil {
		message = m
	}
	switch {
	case n == grpcUnimplemented:
		return 0, "the server does not implement the gRPC health protocol", nil
	case n == grpcDeadlineExceeded:
		return 0, "no answer in time", nil
	case n != 0 && n < len(grpcCodes):
		return 0, grpcCodes[n] + ": " + message, nil
	case n != 0:
		return 0, "Code(" + code + "): " + message, nil
	}
	msg, err := grpcUnframe(body)
	if err != nil {
		return 0, "", err
	}
	return healthStatus(msg), "", nil
}

// grpcMessage frames a message: not compressed, its length, the message.
func grpcMessage(m []byte) []byte {
	out := make([]byte, 5, 5+len(m))
	binary.BigEndian.PutUint32(out[1:], uint32(len(m)))
	return append(out, m...)
}

// grpcUnframe returns the one message of a unary answer.
func grpcUnframe(b []byte) ([]byte, error) {
	if len(b) < 5 {
		return nil, errors.New("the answer holds no message")
	}
	if b[0] != 0 {
		return nil, errors.New("the answer is compressed, which was not asked for")
	}
	n := binary.BigEndian.Uint32(b[1:5])
	if uint64(len(b)-5) < uint64(n) {
		return nil, errors.New("the answer's message is cut short")
	}
	return b[5 : 5+n], nil
}

// healthRequest encodes grpc.health.v1.HealthCheckRequest{service}: field 1,
// a string, left out when empty (proto3).
func healthRequest(service string) []byte {
	if service == "" {
		return nil
	}
	b := []byte{1<<3 | 2}
	b = binary.AppendUvarint(b, uint64(len(service)))
	return append(b, service...)
}

// healthStatus decodes grpc.health.v1.HealthCheckResponse's status (field 1,
// an enum); fields it does not know are skipped, a missing status is UNKNOWN.
func healthStatus(m []byte) uint64 {
	var status uint64
	for len(m) > 0 {
		key, n := binary.Uvarint(m)
		if n <= 0 {
			return healthUnknown
		}
		m = m[n:]
		switch key & 7 {
		case 0: // varint
			v, n := binary.Uvarint(m)
			if n <= 0 {
				return healthUnknown
			}
			m = m[n:]
			if key>>3 == 1 {
				status = v
			}
		case 1: // 64-bit
			if len(m) < 8 {
				return healthUnknown
			}
			m = m[8:]
		case 2: // length-delimited
			l, n := binary.Uvarint(m)
			if n <= 0 || uint64(len(m)-n) < l {
				return healthUnknown
			}
			m = m[n+int(l):]
		case 5: // 32-bit
			if len(m) < 4 {
				return healthUnknown
			}
			m = m[4:]
		default:
			return healthUnknown
		}
	}
	return status
}

// grpcTimeout is the grpc-timeout header's value for d: at most eight
// digits, in the finest unit that holds it.
func grpcTimeout(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	for _, u := range []struct {
		unit string
		size time.Duration
	}{{"n", time.Nanosecond}, {"u", time.Microsecond}, {"m", time.Millisecond}, {"S", time.Second}, {"M", time.Minute}} {
		if v := d / u.size; v < 1e8 {
			return strconv.FormatInt(int64(v), 10) + u.unit
		}
	}
	return strconv.FormatInt(int64(d/time.Hour), 10) + "H"
}
