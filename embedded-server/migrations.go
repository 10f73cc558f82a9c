package embeddedserver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/covetpy/covet/backend/migrate"
	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect"
	"github.com/covetpy/covet/backend/resource"
	"github.com/covetpy/covet/embedded-server/internal/config"
)

// MigrationsDir is the folder of a project's migration files.
const MigrationsDir = "migrations"

// Migrations is a project's database with its migrations, for the CLI.
type Migrations struct {
	*migrate.Migrator
	// Dir is the absolute path of the migrations folder.
	Dir       string
	db        *orm.DB
	resources []resource.Definition
	close     func() error
}

// Generate proposes the migration that brings the database to covet.json's
// resources (migrate.Generate).
func (m *Migrations) Generate(ctx context.Context) (*migrate.Draft, error) {
	return generate(ctx, m.db, m.resources)
}

// generate runs migrate.Generate over the tables of defs.
func generate(ctx context.Context, db *orm.DB, defs []resource.Definition) (*migrate.Draft, error) {
	tables := make([]*orm.Table, 0, len(defs))
	for _, def := range defs {
		res, err := resource.New(db, def)
		if err != nil {
			return nil, err
		}
		tables = append(tables, res.Table())
	}
	return migrate.Generate(ctx, db, db.Dialect(), tables...)
}

// Close closes the database.
func (m *Migrations) Close() error { return m.close() }

// OpenMigrations opens the database that covet.json in the project folder
// names (creating the project with its defaults when it has none, as
// covet serve does) and reads the migrations in its migrations folder; a
// missing folder holds none.
func OpenMigrations(ctx context.Context, projectDir string) (*Migrations, error) {
	proj, err := openProject(projectDir, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	conf, err := proj.loadConfig(config.Env{})
	if err != nil {
		return nil, err
	}
	dir := proj.path(MigrationsDir)
	ms, err := loadMigrations(dir)
	if err != nil {
		return nil, err
	}
	primary := conf.Database.Primary
	if path, ok := config.SQLitePath(primary); ok && !filepath.IsAbs(path) {
		primary = "sqlite:" + proj.path(path)
	}
	db, err := dialect.Open(ctx, primary)
	if err != nil {
		return nil, fmt.Errorf("opening the database: %w", err)
	}
	m, err := migrate.New(migrate.Config{DB: db, Migrations: ms})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Migrations{Migrator: m, Dir: dir, db: db, resources: conf.Resources, close: db.Close}, nil
}

func loadMigrations(dir string) ([]*migrate.Migration, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return migrate.Load(os.DirFS(dir))
}
