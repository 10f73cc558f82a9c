//go:build !dev

package main

// devServerOrigins are none outside `wails dev` builds (see origins_dev.go).
var devServerOrigins []string
