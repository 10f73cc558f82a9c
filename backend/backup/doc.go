// Package backup makes full, checksummed and optionally encrypted backups of
// a SQLite database into a folder, verifies them and restores them safely;
// it archives the database's write-ahead log continuously so that a restore
// reaches any moment since a base backup (SQLiteArchiver, RestoreSQLiteTo,
// RestoreLive).
//
//	store, err := backup.Open(backup.Config{Dir: "covet_data/backups", Keyring: ring})
//	m, err := store.BackupSQLite(ctx, db)           // db from sqlite.New
//	report, err := store.Verify(ctx, m.ID)          // err names the first failed check
//	db.Close()                                      // a restore needs every connection closed
//	plan, err := store.RestoreSQLite(ctx, m.ID, "covet_data/covet.db", backup.RestoreOptions{DryRun: true})
//	done, err := store.RestoreSQLite(ctx, m.ID, "covet_data/covet.db", backup.RestoreOptions{})
//	deleted, err := store.Prune(backup.Retention{Keep: 7, MaxAge: 30 * 24 * time.Hour})
//
// Point in time:
//
//	hooks := &sqlite.WriterHooks{ManualCheckpoints: true}
//	db, err := sqlite.New(ctx, sqlite.Config{Path: path, Writer: hooks})
//	arch, err := store.ArchiveSQLite(ctx, db, hooks, backup.ArchiveOptions{}) // a base, then a sync a second
//	rep, err := store.RestoreLive(ctx, db, arch, "", &t, backup.RestoreOptions{}) // db as it was at t
//	err = arch.Close(ctx)                                                         // before db.Close
//
// # On disk
//
// A store is a folder (mode 0700) with one sub-folder per backup, named by
// the backup's ID, which sorts by time (UTC, milliseconds, then 24 random
// bits):
//
//	backups/
//	  20261203T055012.123Z-1a2b3c/
//	    database.sqlite        the VACUUM INTO snapshot (plain backups)
//	    database.sqlite.enc    or the same, encrypted in chunks
//	    manifest.json          written last: id, kind, dialect, createdAt,
//	                           source, files (name, size, sha256, plainSize,
//	                           plainSha256), encrypted, keyId, chunkSize, seal
//	  20261203T060000.001Z-4d5e6f/   a base backup (kind "base")
//	    database.sqlite        the database file with its log applied, page
//	                           for page (not VACUUMed: the log's pages fit it)
//	    manifest.json
//	    wal/                   its archive
//	      0000000000000001.seg the commits of one sync (".seg.enc" encrypted)
//	      head.json            the newest segment and its SHA-256, the number
//	                           of commits, syncedAt (the archive restores any
//	                           moment up to it), closed
//	  .verify-123456/          scratch folder of a running Verify
//	  .restore-123456/         scratch folder of a running RestoreLive
//
// A folder without manifest.json is a backup that was interrupted (or is
// still being written): List leaves it out, Scan reports it, Delete removes
// it, and Prune removes it once it is older than LeftoverAge (with Verify's
// scratch folders). While a backup runs, its folder also holds
// snapshot.tmp, the plaintext snapshot, until it is checksummed or
// encrypted, so an interrupted backup should not stay. Callers name backups only by ID,
// and only the exact ID pattern is accepted, so no name reaches outside
// the store.
//
// The manifest has a kind ("full" or "base") and a dialect ("sqlite" or
// "postgres"), and a list of files. Segments are not in the manifest (it is
// written once): each starts with the SHA-256 of the one before, and
// head.json names the newest, so Verify proves the chain from head.json back
// to segment 1; segment.go documents their format, archive.go how the
// archiver keeps them complete and in order.
//
// # PostgreSQL
//
// A PostgreSQL database goes into the same store with its own tools: base
// backups (pg_basebackup) with their archived WAL (pg_receivewal), which
// restore to a moment through a temporary instance (postgres.go), and
// logical backups (pg_dump), which restore as they were made
// (postgres_logical.go). Either restore loads the result into a new
// database, checks it, and only then swaps it in under the live name,
// keeping the replaced database.
//
// # Encryption
//
// With a crypto.Keyring in Config, every backup is encrypted with the
// keyring's current key. Database files can be large, so a file is sealed
// in chunks of Config.ChunkSize plaintext bytes (1 MiB by default), and
// encryption and decryption stream in constant memory:
//
//	file   = magic chunk*
//	magic  = "COVETBK1"                   (8 bytes)
//	chunk  = flags length sealed
//	flags  = 1 byte: 1 on the last chunk, 0 on the others
//	length = 4 bytes, big endian: len(sealed), at most ChunkSize + 107
//	sealed = Keyring.Seal(plaintext, ad)  (names its key; see package crypto)
//	ad     = "covet-backup-chunk-v1" 0x00 backupID 0x00 fileName 0x00
//	         index (8 bytes, big endian, from 0) last (1 byte: 0 or 1)
//
// Every chunk but the last holds exactly ChunkSize plaintext bytes; an
// empty file is one empty last chunk. The associated data binds each chunk
// to its backup, its file, its position and whether it is the last, so
// chunks cannot be reordered, dropped, repeated or moved between files or
// backups, and the file cannot be cut short or extended, without
// decryption failing.
//
// The manifest is authenticated too: its "seal" field is the keyring's seal
// of the SHA-256 of the manifest's JSON with the seal left empty, with the
// associated data "covet-backup-manifest-v1" 0x00 backupID. Since the
// manifest holds the files' checksums, changing any of its fields or any
// byte of the data makes Verify and RestoreSQLite refuse the backup. An
// encrypted backup needs a keyring holding its key (Manifest.KeyID) to be
// verified or restored; listing it does not.
package backup
