package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect"
	"github.com/covetpy/covet/backend/orm/ormtest"
)

// TestKill9KeepsAcknowledgedWrites: 1,000 concurrent creates against a
// resource, the server killed with SIGKILL part way: every create that was
// answered 201 is in the database, which opens clean (SQLite's
// integrity_check; PostgreSQL answers and holds consistent rows).
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	bin := buildCovet(t)
	for name, primary := range map[string]func(t *testing.T) string{
		"sqlite":   func(*testing.T) string { return "sqlite:covet_data/covet.db" },
		"postgres": func(t *testing.T) string { return ormtest.PostgresDSN(t, os.Getenv) },
	} {
		t.Run(name, func(t *testing.T) { kill9(t, bin, primary(t)) })
	}
}

func kill9(t *testing.T, bin, primary string) {
	project := t.TempDir()
	conf := fmt.Sprintf(`{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": %q},
	  "resources": [{"name": "events", "table": "events", "fields": [{"name": "n", "type": "int", "required": true, "unique": true}]}],
	  "routes": [{"id": "events", "path": "/events", "kind": "resource", "resource": "events"}]}`, primary)
	if err := os.WriteFile(filepath.Join(project, "covet.json"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--project", project)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var rt struct{ URL string }
	for deadline := time.Now().Add(30 * time.Second); rt.URL == ""; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no runtime.json within 30 s")
		}
		if data, err := os.ReadFile(filepath.Join(project, "covet_data", "runtime.json")); err == nil {
			json.Unmarshal(data, &rt)
		}
	}

	const writes, workers, killAfter = 1000, 50, 300
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var next, acked atomic.Int64
	var mu sync.Mutex
	ok := map[int64]bool{}
	killed := make(chan struct{})
	var once sync.Once
	kill := func() { once.Do(func() { cmd.Process.Kill(); close(killed) }) }
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				n := next.Add(1)
				if n > writes {
					return
				}
				resp, err := client.Post(rt.URL+"/events", "application/json", strings.NewReader(fmt.Sprintf(`{"n": %d}`, n)))
				if err != nil {
					continue // the server is gone: not acknowledged
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					mu.Lock()
					ok[n] = true
					mu.Unlock()
					if acked.Add(1) == killAfter {
						kill()
					}
				}
			}
		})
	}
	wg.Wait()
	kill()
	<-killed
	cmd.Wait()
	if acked.Load() < killAfter || acked.Load() >= writes {
		t.Fatalf("%d writes acknowledged; the kill should fall between %d and %d", acked.Load(), killAfter, writes)
	}

	if strings.HasPrefix(primary, "sqlite:") {
		primary = "sqlite:" + filepath.Join(project, "covet_data", "covet.db")
	}
	ctx := context.Background()
	db, err := dialect.Open(ctx, primary)
	if err != nil {
		t.Fatalf("the database does not open after the kill: %v", err)
	}
	defer db.Close()
	if strings.HasPrefix(primary, "sqlite:") {
		rs, err := orm.RunNative(ctx, db, "PRAGMA integrity_check", nil, 0)
		if err != nil || len(rs.Rows) != 1 || rs.Rows[0][0] != "ok" {
			t.Errorf("integrity_check after the kill: %v, %v", rs, err)
		}
	}
	rs, err := orm.RunNative(ctx, db, "SELECT n FROM events", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]bool{}
	for _, r := range rs.Rows {
		var n int64
		fmt.Sscan(fmt.Sprint(r[0]), &n)
		stored[n] = true
	}
	var lost []int64
	for n := range ok {
		if !stored[n] {
			lost = append(lost, n)
		}
	}
	t.Logf("%d acknowledged, %d stored (a request may be stored and unanswered when the kill lands)", len(ok), len(stored))
	if len(lost) > 0 {
		t.Errorf("%d acknowledged writes lost: %v", len(lost), lost)
	}
}
