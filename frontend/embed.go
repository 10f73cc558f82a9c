// Package frontend embeds the built Covet Studio UI (frontend/dist), so the
// Go binaries serve it without Node at build or run time.
//
// The sources are TypeScript + Svelte 5 under src/; `npm run build` writes
// dist/ and dist/source-hash.txt, and a test fails when dist/ is older than
// the sources (see scripts/source-hash.mjs).
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built UI, rooted at its index.html.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("frontend: " + err.Error()) // "dist" is a valid path; unreachable
	}
	return sub
}
