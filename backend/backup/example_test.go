package backup_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/covetpy/covet/backend/backup"
	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
	"github.com/covetpy/covet/backend/security/crypto"
)

// Back up a SQLite database encrypted, verify the backup, and restore it
// over the database.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "backup-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "covet.db")

	db, err := sqlite.New(ctx, sqlite.Config{Path: path})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := orm.ExecNative(ctx, db, "CREATE TABLE notes(body TEXT)"); err != nil {
		log.Fatal(err)
	}

	key, err := crypto.NewKey("2026-12", crypto.XChaCha20Poly1305)
	if err != nil {
		log.Fatal(err)
	}
	ring := crypto.NewKeyring(crypto.KeyringConfig{})
	ring.Add(key, true)
	store, err := backup.Open(backup.Config{Dir: filepath.Join(dir, "backups"), Keyring: ring})
	if err != nil {
		log.Fatal(err)
	}

	m, err := store.BackupSQLite(ctx, db)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Kind, m.Dialect, "encrypted:", m.Encrypted, "key:", m.KeyID)

	report, err := store.Verify(ctx, m.ID)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range report.Checks {
		fmt.Println(c.Name, c.File, c.Status)
	}

	db.Close() // a restore needs every connection to the database closed
	done, err := store.RestoreSQLite(ctx, m.ID, path, backup.RestoreOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("restored:", done.Restored, "old database kept:", done.KeptAs != "")
	// Output:
	// full sqlite encrypted: true key: 2026-12
	// manifest  ok
	// key  ok
	// checksum database.sqlite.enc ok
	// restore database.sqlite.enc ok
	// integrity_check  ok
	// foreign_key_check  ok
	// restored: true old database kept: true
}
