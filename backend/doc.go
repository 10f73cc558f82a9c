// Package backend is the root of Covet's framework packages: everything a Go
// team needs to build an API, usable without the studio.
//
// The packages below it import only the standard library, third-party
// libraries and lower backend packages. They never import embedded-server,
// frontend or Wails, read no environment variables and keep no package-level
// mutable state; tests/archtest enforces this.
//
//   - router: the HTTP router (parameters, patterns, catch-all, 405/Allow,
//     groups, reverse URLs), built into an immutable table.
//   - ratelimit: GCRA rate limiting.
//   - events: the bounded in-process hub that request and query events flow
//     through on their way to the studio.
//   - problem: RFC 9457 problem+json, the one error shape on the wire.
//   - middleware: func(http.Handler) http.Handler building blocks.
//   - metrics: Prometheus collectors for HTTP servers and database pools.
//   - orm/dialect/sqlite: opening SQLite (modernc.org/sqlite) the way Covet
//     needs it.
//
// See docs/architecture.md for where each future capability will live.
package backend
