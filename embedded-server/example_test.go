package embeddedserver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	embeddedserver "github.com/covetpy/covet/embedded-server"
)

func Example() {
	dir, _ := os.MkdirTemp("", "covet-example-")
	defer os.RemoveAll(dir)

	// A missing project folder is created with covet.json defaults.
	srv, err := embeddedserver.New(embeddedserver.Config{Project: filepath.Join(dir, "api"), Listen: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())

	resp, err := http.Get(srv.Info().URL + "/hello") // the sample route
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 Hello, World!
}
