package embeddedserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/problem"
)

// nPlusOneHandler is the built-in demo of the query inspector: it lists
// books with their authors by reading each author on its own, an N+1 on
// purpose; with ?eager=1 it loads them the right way, in one batched query.
const nPlusOneHandler = "covet.demo.nplusone"

type demoAuthor struct {
	ID   int64  `db:"id,pk,auto"`
	Name string `db:"name"`
}

func (demoAuthor) TableName() string { return "covet_demo_authors" }

type demoBook struct {
	ID       int64       `db:"id,pk,auto"`
	Title    string      `db:"title"`
	AuthorID int64       `db:"author_id,index"`
	Author   *demoAuthor `rel:"belongs_to"`
}

func (demoBook) TableName() string { return "covet_demo_books" }

// demo serves nPlusOneHandler on the project's database, which is opened
// after the handler is registered.
type demo struct{ db *orm.DB }

func (d *demo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	problem.HandlerFunc(d.serve).ServeHTTP(w, r)
}

func (d *demo) serve(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := d.seed(ctx); err != nil {
		return err
	}
	type row struct {
		Title  string `json:"title"`
		Author string `json:"author"`
	}
	var out []row
	if r.URL.Query().Get("eager") == "1" {
		books, err := orm.From[demoBook](d.db).OrderBy("id").With("Author").All(ctx)
		if err != nil {
			return err
		}
		for _, b := range books {
			out = append(out, row{b.Title, b.Author.Name})
		}
	} else {
		books, err := orm.From[demoBook](d.db).OrderBy("id").All(ctx)
		if err != nil {
			return err
		}
		for _, b := range books {
			a, err := orm.Get[demoAuthor](ctx, d.db, b.AuthorID) // one query per book: the N+1
			if err != nil {
				return err
			}
			out = append(out, row{b.Title, a.Name})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(out)
}

// seed creates the demo tables with five authors and their books once.
func (d *demo) seed(ctx context.Context) error {
	authorsTable, err := orm.Mapping[demoAuthor](d.db)
	if err != nil {
		return err
	}
	booksTable, err := orm.Mapping[demoBook](d.db)
	if err != nil {
		return err
	}
	for _, t := range []*orm.Table{authorsTable, booksTable} {
		if _, err := orm.EnsureTable(ctx, d.db, t); err != nil {
			return err
		}
	}
	if n, err := orm.From[demoAuthor](d.db).Count(ctx); err != nil || n > 0 {
		return err
	}
	// Two batched inserts, so that the demo's only N+1 is the one it shows.
	return orm.WithTx(ctx, d.db, func(tx *orm.Tx) error {
		authors := make([]demoAuthor, 5)
		for i := range authors {
			authors[i].Name = fmt.Sprintf("Author %d", i+1)
		}
		if err := orm.InsertMany(ctx, tx, authors); err != nil {
			return err
		}
		var books []demoBook
		for _, a := range authors {
			for j := 1; j <= 2; j++ {
				books = append(books, demoBook{Title: fmt.Sprintf("Book %d.%d", a.ID, j), AuthorID: a.ID})
			}
		}
		return orm.InsertMany(ctx, tx, books)
	})
}
