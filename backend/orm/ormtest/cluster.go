package ormtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is a PostgreSQL cluster of a test's own (PostgresCluster).
type Cluster struct {
	// Dir is a folder of the test that the cluster's OS user can enter
	// (the data folder is inside it).
	Dir  string
	Port int
	// Bin holds PostgreSQL's programs.
	Bin string
}

// DSN is the URL of database db on the cluster, as its superuser.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// PostgresCluster starts a PostgreSQL cluster for t alone, in a temporary
// folder, on a free loopback port, with replication connections allowed
// (the shared test server refuses them): for base backups and WAL
// streaming. As root, it runs as the postgres user (PostgreSQL refuses
// root). It stops when t ends. Without PostgreSQL's programs the test is
// skipped, or fails when CI=true.
func PostgresCluster(t testing.TB, getenv func(string) string) *Cluster {
	t.Helper()
	unavailable := func(format string, a ...any) {
		t.Helper()
		if getenv("CI") == "true" {
			t.Fatalf("a PostgreSQL cluster is needed and CI=true: "+format, a...)
		}
		t.Skipf("no PostgreSQL cluster to test with (set CI=true to fail instead): "+format, a...)
	}
	bin := postgresBin()
	if bin == "" {
		unavailable("no initdb in /usr/lib/postgresql/*/bin or pg_config --bindir")
	}
	// asPostgres runs prog as the cluster's OS user.
	asPostgres := func(prog string, args ...string) *exec.Cmd {
		if os.Geteuid() == 0 {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", prog}, args...)...)
		}
		return exec.Command(prog, args...)
	}
	runAs := func(name string, args ...string) *exec.Cmd { return asPostgres(filepath.Join(bin, name), args...) }
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := runAs(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}

	c := &Cluster{Dir: t.TempDir(), Bin: bin}
	data, sock, logFile := filepath.Join(c.Dir, "pg"), filepath.Join(c.Dir, "sock"), filepath.Join(c.Dir, "pg.log")
	for _, d := range []string{data, sock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(logFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 { // the postgres user enters the test's folders and owns the cluster's
		for _, d := range []string{filepath.Dir(c.Dir), c.Dir} {
			if err := os.Chmod(d, 0o711); err != nil {
				t.Fatal(err)
			}
		}
		if out, err := exec.Command("chown", "-R", "postgres:", data, sock, logFile).CombinedOutput(); err != nil {
			unavailable("chown to the postgres user: %v %s", err, out)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()

	run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions")
	conf := fmt.Sprintf("port = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nwal_level = replica\nmax_wal_senders = 5\nmax_replication_slots = 5\nfsync = off\n", c.Port, sock)
	hba := "local all all trust\nhost replication all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 trust\n"
	configure := asPostgres("sh", "-c", `cat >> "$1/postgresql.conf" && printf '%s' "$2" > "$1/pg_hba.conf"`, "sh", data, hba)
	configure.Stdin = strings.NewReader(conf)
	if out, err := configure.CombinedOutput(); err != nil {
		t.Fatalf("configuring the cluster: %v %s", err, out)
	}
	run("pg_ctl", "-D", data, "-l", logFile, "-w", "-t", "60", "start")
	t.Cleanup(func() {
		cmd := runAs("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("stopping the test cluster: %v %s", err, out)
		}
	})
	return c
}

// postgresBin finds PostgreSQL's programs: pg_config --bindir, else the
// newest /usr/lib/postgresql/*/bin; "" when neither has initdb.
func postgresBin() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var dirs []string
	if out, err := exec.CommandContext(ctx, "pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	major := func(dir string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		return n
	}
	slices.SortFunc(found, func(a, b string) int { return major(b) - major(a) }) // newest first
	dirs = append(dirs, found...)
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}
