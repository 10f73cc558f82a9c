package backup_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/covetpy/covet/backend/backup"
)

// Archive a PostgreSQL server continuously, then restore its database as
// it was a minute ago. (Not run: it needs a server that allows
// replication connections; postgres_test.go makes one.)
func ExampleStore_RestorePostgres() {
	ctx := context.Background()
	store, err := backup.Open(backup.Config{Dir: "covet_data/backups"})
	if err != nil {
		log.Fatal(err)
	}
	cfg := backup.PostgresConfig{DSN: "postgres://covet@127.0.0.1:5432/covet?sslmode=disable"}

	// A base backup, then the WAL, synced every 10 s until Close.
	arch, err := store.ArchivePostgres(ctx, cfg, backup.PGArchiveOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer arch.Close(ctx)
	// … the application runs; a mistake is made …
	if err := arch.Sync(ctx); err != nil { // archive everything committed until now
		log.Fatal(err)
	}

	when := time.Now().Add(-time.Minute)
	plan, err := store.RestorePostgres(ctx, cfg, when, backup.RestoreOptions{DryRun: true})
	if err != nil {
		log.Fatal(err) // errors.Is(err, backup.ErrNotRestorable): the archive does not reach it
	}
	for _, step := range plan.Plan {
		fmt.Println(step)
	}
	// Close the application's pool first: the database is renamed.
	done, err := store.RestorePostgres(ctx, cfg, when, backup.RestoreOptions{})
	if err != nil {
		log.Fatal(err) // nothing changed on the server
	}
	fmt.Println("the database before the restore is kept as", done.KeptAs)
}
