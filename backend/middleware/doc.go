// Package middleware holds Covet's HTTP middleware. Each one is a
// func(http.Handler) http.Handler (or a constructor returning one), lives in
// its own file and has its own tests.
//
//	h := middleware.Recoverer(onPanic)(
//		middleware.RequestID()(
//			middleware.Instrument(report)(mux)))
package middleware
