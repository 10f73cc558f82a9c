package dialect_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/orm/dialect"
	"github.com/covetpy/covet/backend/orm/ormtest"
)

// TestNewPoolSettings: the pool settings reach the primary's pool and each
// replica's (the stats show the maximum), and the dialects that cannot
// honour one refuse it rather than ignore it.
func TestNewPoolSettings(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"postgres", func(t *testing.T) string { return ormtest.PostgresDSN(t, os.Getenv) }},
		{"mysql", func(t *testing.T) string { return ormtest.MySQLDSN(t, os.Getenv) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dsn := c.dsn(t)
			db, err := dialect.New(ctx, dialect.Config{DSN: dsn, Replicas: []string{dsn},
				MaxConns: 7, MaxConnLifetime: time.Minute, MaxConnIdleTime: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			primary, replicas := db.Stats()
			if primary.MaxOpen != 7 || len(replicas) != 1 || replicas[0].MaxOpen != 7 {
				t.Errorf("pool maxima: primary %d, replicas %+v; want 7 each", primary.MaxOpen, replicas)
			}
		})
	}

	refused := []struct {
		name string
		cfg  func(t *testing.T) dialect.Config
		want string
	}{
		{"sqlite with a pool", func(t *testing.T) dialect.Config {
			return dialect.Config{DSN: "sqlite:" + filepath.Join(t.TempDir(), "p.db"), MaxConns: 3}
		}, "one connection writes"},
		{"mysql with a minimum", func(t *testing.T) dialect.Config {
			return dialect.Config{DSN: ormtest.MySQLDSN(t, os.Getenv), MaxConns: 4, MinConns: 2}
		}, "keeps no minimum"},
		{"postgres with more than the maximum", func(t *testing.T) dialect.Config {
			return dialect.Config{DSN: ormtest.PostgresDSN(t, os.Getenv), MaxConns: 2, MinConns: 3}
		}, "MinConns 3 is more than MaxConns 2"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			db, err := dialect.New(ctx, c.cfg(t))
			if err == nil {
				db.Close()
				t.Fatalf("opened; want an error saying %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error saying %q", err, c.want)
			}
		})
	}
}
