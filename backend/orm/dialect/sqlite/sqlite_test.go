package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/covetpy/covet/backend/orm"
)

// TestParseType: declared types read by SQLite's affinity rules, except
// BOOLEAN and DATETIME, which ColumnType gives booleans and times.
func TestParseType(t *testing.T) {
	for _, c := range []struct {
		decl string
		want orm.SQLType
	}{
		{"INTEGER", orm.SQLType{Family: orm.FamilyInteger}},
		{"BIGINT", orm.SQLType{Family: orm.FamilyInteger}},
		{"VARCHAR(10)", orm.SQLType{Family: orm.FamilyText}},
		{"CLOB", orm.SQLType{Family: orm.FamilyText}},
		{"BLOB", orm.SQLType{Family: orm.FamilyBlob}},
		{"DOUBLE PRECISION", orm.SQLType{Family: orm.FamilyFloat}},
		{"REAL", orm.SQLType{Family: orm.FamilyFloat}},
		{"BOOLEAN", orm.SQLType{Family: orm.FamilyBool}},
		{"DATETIME", orm.SQLType{Family: orm.FamilyTime}},
		{"NUMERIC", orm.SQLType{Family: orm.FamilyDecimal}},
		{"", orm.SQLType{}},
	} {
		if got := (Dialect{}).ParseType(c.decl); got != c.want {
			t.Errorf("ParseType(%q) = %+v, want %+v", c.decl, got, c.want)
		}
	}
}

func TestOpenConfiguresDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pragmas := []struct{ name, want string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
		{"synchronous", "1"},
	}
	for _, p := range pragmas {
		var got string
		if err := db.QueryRow("PRAGMA " + p.name).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", p.name, err)
		}
		if got != p.want {
			t.Errorf("PRAGMA %s = %q, want %q", p.name, got, p.want)
		}
	}
	if _, err := db.Exec("CREATE TABLE parent(id INTEGER PRIMARY KEY); CREATE TABLE child(p INTEGER REFERENCES parent(id))"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO child VALUES (42)"); err == nil {
		t.Error("inserting a dangling foreign key succeeded, want an error (foreign keys not enforced)")
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not created: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"ok", Config{Path: "a.db"}, ""},
		{"empty path", Config{}, "Path is empty"},
		{"query in path", Config{Path: "a.db?mode=ro"}, "contains '?'"},
		{"negative timeout", Config{Path: "a.db", BusyTimeout: -1}, "BusyTimeout"},
		{"negative conns", Config{Path: "a.db", MaxOpenConns: -1}, "MaxOpenConns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestOpenFailsInUnwritableDir(t *testing.T) {
	if os.Getuid() == 0 {
		// root ignores directory permissions; use a path under a file instead.
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, nil, 0o600)
		if _, err := Open(context.Background(), Config{Path: filepath.Join(f, "x.db")}); err == nil {
			t.Fatal("Open under a regular file succeeded, want an error")
		}
		return
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	if _, err := Open(context.Background(), Config{Path: filepath.Join(dir, "x.db")}); err == nil {
		t.Fatal("Open in a read-only directory succeeded, want an error")
	}
}
