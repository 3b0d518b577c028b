package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler returns an http.Handler serving, in the Prometheus exposition
// format, the metrics of the collectors plus the Go runtime's and the
// process's (go_* and process_*), from a registry of its own.
func Handler(cols ...prometheus.Collector) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	all := append([]prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}, cols...)
	for _, c := range all {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}

// Serve serves the collectors' metrics (see Handler) at /metrics on addr
// (host:port; ":0" picks a free port) until ctx ends, then shuts the server
// down and returns nil. It returns an error if addr cannot be listened on
// or the server fails.
func Serve(ctx context.Context, addr string, cols ...prometheus.Collector) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return ServeListener(ctx, ln, cols...)
}

// ServeListener is Serve on a listener the caller opened (it is closed on
// return).
func ServeListener(ctx context.Context, ln net.Listener, cols ...prometheus.Collector) error {
	h, err := Handler(cols...)
	if err != nil {
		ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
