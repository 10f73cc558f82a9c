//go:build dev

package main

// devServerOrigins are the window's origins under `wails dev`, which serves
// the studio through its dev server on localhost:34115 (change these with
// -devserver).
var devServerOrigins = []string{"wails://wails.localhost:34115", "http://wails.localhost:34115"}
