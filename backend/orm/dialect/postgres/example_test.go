package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/postgres"
)

type User struct {
	ID    int64  `db:"id,pk,auto"`
	Email string `db:"email,unique,max=200"`
	Name  string `db:"name"`
}

// New opens the primary and a read replica; reads outside transactions go
// to the replica, writes and transactions to the primary.
func ExampleNew() {
	ctx := context.Background()
	db, err := postgres.New(ctx, postgres.Config{
		DSN:            "postgres://app@db1:5432/app?sslmode=verify-full",
		Replicas:       []string{"postgres://app@db2:5432/app?sslmode=verify-full"},
		MaxConns:       20,
		ConnectTimeout: 3 * time.Second,
	})
	if err != nil {
		log.Fatal(err) // names the DSN that failed, without its password
	}
	defer db.Close()

	u := User{Email: "ann@example.com", Name: "Ann"}
	if err := orm.Insert(ctx, db, &u); orm.IsUniqueViolation(err) {
		fmt.Println("that email is taken")
	} else if err != nil {
		log.Fatal(err)
	}
	// Read your own write from the primary, not a lagging replica.
	got, err := orm.Get[User](orm.OnPrimary(ctx), db, u.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Name)
}

// NewPool adapts a pgxpool configured by hand, for orm.New.
func ExampleNewPool() {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig("postgres://app@db1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	db, err := orm.New(orm.Config{Dialect: postgres.Dialect{}, Primary: postgres.NewPool(pool)})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close() // closes pool too
}

// Classify turns PostgreSQL's errors into the ORM's kinds.
func ExampleDialect_Classify() {
	var d postgres.Dialect
	err := d.Classify(fmt.Errorf("reading: %w", context.DeadlineExceeded))
	fmt.Println(orm.KindOf(err))
	var e *orm.Error
	fmt.Println(errors.As(err, &e))
	// Output:
	// timeout
	// true
}

// The SQL the dialect writes for an upsert and for EXPLAIN.
func ExampleDialect() {
	var d postgres.Dialect
	fmt.Println(string(d.AppendUpsert([]byte(`INSERT INTO "users" ("email", "name") VALUES ($1, $2)`), "users", []string{"email"}, []string{"name"}, "")))
	fmt.Println(d.Explain(`SELECT * FROM "users" WHERE "id" = $1`, false))
	// Output:
	// INSERT INTO "users" ("email", "name") VALUES ($1, $2) ON CONFLICT ("email") DO UPDATE SET "name" = EXCLUDED."name"
	// EXPLAIN (FORMAT JSON) SELECT * FROM "users" WHERE "id" = $1
}
