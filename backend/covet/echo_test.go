package covet_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/covetpy/covet/backend/covet"
)

func TestEcho(t *testing.T) {
	app := covet.New(covet.Config{})
	app.Handle("POST", "/files/{owner:[a-z]+}/{path...}", covet.Echo(16))
	h, err := app.Handler()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body string
		wantCode   int
		wantParams map[string]string
	}{
		{"echoes", `{"a":1}`, 200, map[string]string{"owner": "ada", "path": "notes/x.txt"}},
		{"body over the limit", strings.Repeat("x", 17), 413, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/files/ada/notes/x.txt?q=1", strings.NewReader(tt.body))
			req.Header.Set("X-Try", "yes")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantCode != 200 {
				return
			}
			var got covet.EchoReply
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Body != tt.body || got.Pattern != "POST /files/{owner:[a-z]+}/{path...}" || got.Query["q"][0] != "1" ||
				got.Headers["X-Try"][0] != "yes" || got.RequestID == "" || len(got.Params) != len(tt.wantParams) {
				t.Errorf("reply %+v", got)
			}
			for k, v := range tt.wantParams {
				if got.Params[k] != v {
					t.Errorf("param %s = %q, want %q", k, got.Params[k], v)
				}
			}
		})
	}
}
