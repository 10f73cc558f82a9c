// Command e2eserver serves one contender of the end-to-end HTTP benchmark
// on a loopback address, the same way for every contender: a plain
// net/http server. scripts/bench starts it pinned to one core and loads it
// with wrk.
//
//	e2eserver -impl covet-default -addr 127.0.0.1:0
//	e2eserver -impl covet-default -cpuprofile cpu.out   (go tool pprof cpu.out after it exits)
//	e2eserver -impl covet-resource -dsn postgres://postgres@127.0.0.1:5432/test -addr 127.0.0.1:0
//
// The contenders of the resource workload (pgx-raw, covet-resource) need
// -dsn: before listening they recreate the schema covet_bench_http there
// and seed its users table; they drop the schema when they exit.
//
// The contender of the auth workload (covet-auth) generates a signing key
// at start and prints "token JWT", an access token its protected route
// accepts, valid for -lifetime and a minute more.
//
// -impl covet-serve is `covet serve` itself (tests/bench/e2e/serve.go):
// its own listener on -addr and a fresh project in a temporary folder.
//
// -impl servemux-stall serves e2e.NewStall, ServeMux's GET /hello that a
// POST /stall?for=1s stalls, for the load generator's checks.
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
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/covetpy/covet/tests/bench/e2e"
)

func main() {
	impl := flag.String("impl", "", "the contender: "+names())
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on (port 0 picks one)")
	lifetime := flag.Duration("lifetime", 30*time.Minute, "exit after this long, whatever happens")
	dsn := flag.String("dsn", "", "PostgreSQL for the resource contenders (pgx-raw, covet-resource)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2eserver: -cpuprofile:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*impl, *addr, *dsn, *lifetime); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "e2eserver:", err)
		os.Exit(1)
	}
}

// stallName is the server of the load generator's coordinated-omission
// check, e2e.NewStall: not a contender, so not in e2e.Contenders.
const stallName = "servemux-stall"

func names() string {
	var ns []string
	for _, c := range e2e.Contenders {
		ns = append(ns, c.Name)
	}
	for _, c := range e2e.DBContenders {
		ns = append(ns, c.Name)
	}
	for _, c := range e2e.AuthContenders {
		ns = append(ns, c.Name)
	}
	ns = append(ns, e2e.ServeName, stallName)
	return strings.Join(ns, ", ")
}

func run(impl, addr, dsn string, lifetime time.Duration) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() {
		return fmt.Errorf("-addr %q: want a loopback IP:port, such as 127.0.0.1:0", addr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, lifetime)
	defer cancel()
	if impl == e2e.ServeName {
		return serve(ctx, addr)
	}
	var h http.Handler
	if c, ok := e2e.Lookup(impl); ok {
		if h, err = c.Build(); err != nil {
			return err
		}
	} else if c, ok := e2e.LookupDB(impl); ok {
		if dsn == "" {
			return fmt.Errorf("-impl %s needs -dsn, a PostgreSQL URL", impl)
		}
		sctx, scancel := context.WithTimeout(ctx, time.Minute)
		defer scancel()
		if err := e2e.SetupUsers(sctx, dsn); err != nil {
			return err
		}
		defer func() {
			dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer dcancel()
			if err := e2e.DropUsers(dctx, dsn); err != nil {
				fmt.Fprintln(os.Stderr, "e2eserver: dropping the schema:", err)
			}
		}()
		var closePool func()
		if h, closePool, err = c.Build(sctx, dsn); err != nil {
			return err
		}
		defer closePool()
	} else if c, ok := e2e.LookupAuth(impl); ok {
		var token string
		if h, token, err = c.Build(lifetime + time.Minute); err != nil {
			return err
		}
		fmt.Printf("token %s\n", token)
	} else if impl == stallName {
		h = e2e.NewStall()
	} else {
		return fmt.Errorf("-impl %q: want one of %s", impl, names())
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
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

// serve runs the covet-serve contender, which has its own listener.
func serve(ctx context.Context, addr string) error {
	s, err := e2e.StartServe(ctx, addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", strings.TrimPrefix(s.URL, "http://"))
	select {
	case <-ctx.Done():
	case <-s.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Close(sctx)
}
