package admin

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/covetpy/covet/backend/problem"
)

// studioCSP allows the studio to load only its own assets and talk only to
// its own origin.
const studioCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// studioHandler serves the built studio UI under /_covet/. Unknown paths
// without an extension get index.html, so client-side routes reload.
func studioHandler(assets fs.FS) http.Handler {
	if assets == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			problem.Write(w, problem.New(http.StatusNotFound, "the studio UI is not served by this server; start it with covet serve --studio"))
		})
	}
	files := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", studioCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/_covet")
		name = strings.TrimPrefix(name, "/")
		if name == "" || name == "index.html" || (path.Ext(name) == "" && !exists(assets, name)) {
			h.Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, assets, "index.html")
			return
		}
		if strings.HasPrefix(name, "assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + name
		files.ServeHTTP(w, r2)
	})
}

func exists(fsys fs.FS, name string) bool {
	_, err := fs.Stat(fsys, name)
	return err == nil
}
