// Command e2eserver serves one contender of the end-to-end HTTP benchmark
// on a loopback address, the same way for every contender: a plain
// net/http server. scripts/bench starts it pinned to one core and loads it
// with wrk.
//
//	e2eserver -impl covet-default -addr 127.0.0.1:0
//
// It prints "listening on ADDR" once it accepts connections, and exits on
// SIGINT/SIGTERM or after -lifetime, whichever comes first.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/covetpy/covet/tests/bench/e2e"
)

func main() {
	impl := flag.String("impl", "", "the contender: "+names())
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on (port 0 picks one)")
	lifetime := flag.Duration("lifetime", 30*time.Minute, "exit after this long, whatever happens")
	flag.Parse()
	if err := run(*impl, *addr, *lifetime); err != nil {
		fmt.Fprintln(os.Stderr, "e2eserver:", err)
		os.Exit(1)
	}
}

func names() string {
	var ns []string
	for _, c := range e2e.Contenders {
		ns = append(ns, c.Name)
	}
	return strings.Join(ns, ", ")
}

func run(impl, addr string, lifetime time.Duration) error {
	c, ok := e2e.Lookup(impl)
	if !ok {
		return fmt.Errorf("-impl %q: want one of %s", impl, names())
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() {
		return fmt.Errorf("-addr %q: want a loopback IP:port, such as 127.0.0.1:0", addr)
	}
	h, err := c.Build()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, lifetime)
	defer cancel()
	go func() {
		<-ctx.Done()
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
