package mysql_test

import (
	"context"
	"fmt"
	"log"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/mysql"
)

type User struct {
	ID    int64  `db:"id,pk,auto"`
	Email string `db:"email,unique"`
	Name  string `db:"name"`
}

// New opens the primary and its replicas; the ORM's functions take the DB.
func ExampleNew() {
	ctx := context.Background()
	db, err := mysql.New(ctx, mysql.Config{
		DSN:      "mysql://app:secret@db1:3306/shop",
		Replicas: []string{"mysql://app:secret@db2:3306/shop"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	u := User{Email: "ann@example.org", Name: "Ann"}
	if err := orm.Insert(ctx, db, &u); err != nil {
		log.Fatal(err)
	}
	// Reads outside a transaction go to a replica; OnPrimary reads the
	// write just made.
	got, err := orm.Get[User](orm.OnPrimary(ctx), db, u.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Name)
}

// ParseDSN reads either DSN form and forces the settings the ORM relies on.
func ExampleParseDSN() {
	for _, dsn := range []string{
		"mysql://app:secret@db1/shop?charset=utf8mb4",
		"app:secret@tcp(db1:3306)/shop?parseTime=false&interpolateParams=true",
	} {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(cfg.Addr, cfg.DBName, cfg.ParseTime, cfg.InterpolateParams, cfg.Loc, cfg.Params["time_zone"])
	}
	_, err := mysql.ParseDSN("mysql://app:secret@/shop")
	fmt.Println(err)
	fmt.Println(mysql.Redact("app:secret@tcp(db1:3306)/shop"))
	// Output:
	// db1:3306 shop true false UTC '+00:00'
	// db1:3306 shop true false UTC '+00:00'
	// mysql: parsing DSN mysql://app:xxxxx@/shop: no host
	// app:xxxxx@tcp(db1:3306)/shop
}
