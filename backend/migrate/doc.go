// Package migrate applies versioned schema migrations to PostgreSQL, SQLite
// and MySQL/MariaDB through an orm.DB, and rolls them back.
//
// Migrations are SQL files, NNNN_name.up.sql with an optional
// NNNN_name.down.sql, or Go functions; each applied one is recorded in a
// history table with the SHA-256 of its up SQL, so that editing a file after
// it was applied is an error naming the file. A lock makes concurrent
// migrators take turns (PostgreSQL: an advisory lock; MySQL: GET_LOCK;
// SQLite: each migration's IMMEDIATE transaction), and every migration runs
// in its own transaction where the dialect can roll DDL back (PostgreSQL and
// SQLite): a failing statement leaves no trace. MySQL commits each DDL
// statement as it runs, so there a migration is recorded as dirty before it
// starts and clean when it ends; a failure leaves it dirty, naming the
// statement, and nothing runs until Force records the state by hand.
//
// Generate proposes a migration, up and down, from the difference between
// tables (Go models through orm.Mapping, or resources) and the live schema;
// DumpSchema prints a schema as text that compares.
//
// Destructive statements (dropping a table or column, changing a column's
// type, adding NOT NULL without a default …) are refused unless the request
// says Force; a dry run lists them with the SQL it would run.
//
//	ms, err := migrate.Load(os.DirFS("migrations"))
//	m, err := migrate.New(migrate.Config{DB: db, Migrations: ms})
//	report, err := m.Run(ctx, migrate.Request{Direction: migrate.Up})
package migrate
