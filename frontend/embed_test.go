package frontend

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// sourceHash computes the digest that scripts/source-hash.mjs writes into
// dist/source-hash.txt: SHA-256 over, for each input file in sorted
// relative-path order, path + "\n" + content + "\n".
func sourceHash(t *testing.T) string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("src", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, filepath.ToSlash(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json", "svelte.config.js"} {
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(f + "\n"))
		h.Write(data)
		h.Write([]byte("\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestDistIsCurrent fails when the committed dist/ was built from other
// sources than the ones in src/: run `make frontend` and commit dist/.
func TestDistIsCurrent(t *testing.T) {
	recorded, err := os.ReadFile("dist/source-hash.txt")
	if err != nil {
		t.Fatalf("dist/source-hash.txt: %v; run `make frontend` and commit dist/", err)
	}
	if got, want := strings.TrimSpace(string(recorded)), sourceHash(t); got != want {
		t.Errorf("dist/ is stale: built from sources %s, sources now hash to %s; run `make frontend` and commit dist/", got, want)
	}
}

func TestDistHasTheStudio(t *testing.T) {
	index, err := fs.ReadFile(Dist(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(index), "Covet Studio") {
		t.Errorf("dist/index.html does not look like the studio:\n%.300s", index)
	}
	// The studio loads nothing from the network: no CDN, no remote fonts.
	for _, bad := range []string{`src="http`, `href="http`, `src="//`, `href="//`, "url(http", "@import"} {
		if strings.Contains(string(index), bad) {
			t.Errorf("dist/index.html loads %s…; the studio must load nothing from the network", bad)
		}
	}
}
