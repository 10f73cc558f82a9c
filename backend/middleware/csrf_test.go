package middleware

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/covetpy/covet/backend/problem"
)

func TestCSRF(t *testing.T) {
	mw, err := CSRF(CSRFConfig{
		TrustedOrigins: []string{"https://admin.example", "http://localhost:5173"},
		BypassPatterns: []string{"POST /hooks/{name}"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		method     string
		target     string
		header     map[string]string
		wantStatus int
		wantDetail []string // substrings of the problem's detail when refused
	}{
		{"GET cross-site", "GET", "http://api.example/items",
			map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 200, nil},
		{"OPTIONS cross-site", "OPTIONS", "http://api.example/items",
			map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 200, nil},
		{"POST same-origin", "POST", "http://api.example/items",
			map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://api.example"}, 200, nil},
		{"POST typed by the user", "POST", "http://api.example/items",
			map[string]string{"Sec-Fetch-Site": "none"}, 200, nil},
		{"POST cross-site", "POST", "http://api.example/items",
			map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403,
			[]string{"the cross-origin request was refused", "POST", `Sec-Fetch-Site "cross-site"`, `Origin "https://evil.example"`}},
		{"DELETE same-site", "DELETE", "http://api.example/items/1",
			map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://www.api.example"}, 403,
			[]string{"DELETE", `"same-site"`, `"https://www.api.example"`}},
		{"POST cross-site without Origin", "POST", "http://api.example/items",
			map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, []string{`Origin (none)`}},
		{"POST Origin matching Host", "POST", "http://api.example/items",
			map[string]string{"Origin": "http://api.example"}, 200, nil},
		{"POST Origin not matching Host", "POST", "http://api.example/items",
			map[string]string{"Origin": "https://evil.example"}, 403,
			[]string{`Origin "https://evil.example"`, `Host "api.example"`, "Sec-Fetch-Site is missing"}},
		{"POST trusted origin", "POST", "http://api.example/items",
			map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://admin.example"}, 200, nil},
		{"PUT trusted origin, old browser", "PUT", "http://api.example/items/1",
			map[string]string{"Origin": "http://localhost:5173"}, 200, nil},
		{"POST trusted origin with another port", "POST", "http://api.example/items",
			map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost:5174"}, 403, nil},
		{"POST from curl", "POST", "http://api.example/items", nil, 200, nil},
		{"POST bypass pattern", "POST", "http://api.example/hooks/github",
			map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://github.example"}, 200, nil},
		{"POST under the bypass pattern", "POST", "http://api.example/hooks/github/extra",
			map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://github.example"}, 403, nil},
		{"PUT to the bypass path", "PUT", "http://api.example/hooks/github",
			map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://github.example"}, 403, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handled := false
			h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handled = true }))
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader("x=1"))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus || handled != (tt.wantStatus == 200) {
				t.Fatalf("got %d handled=%v, want %d handled=%v (body %s)", rec.Code, handled, tt.wantStatus, tt.wantStatus == 200, rec.Body)
			}
			if tt.wantStatus == 200 {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != problem.ContentType {
				t.Errorf("got Content-Type %q, want %q", got, problem.ContentType)
			}
			var d problem.Details
			if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
				t.Fatalf("decoding %s: %v", rec.Body, err)
			}
			if d.Status != http.StatusForbidden || d.Title != "Forbidden" {
				t.Errorf("got status %d title %q, want 403 \"Forbidden\"", d.Status, d.Title)
			}
			for _, want := range tt.wantDetail {
				if !strings.Contains(d.Detail, want) {
					t.Errorf("got detail %q, want it to contain %q", d.Detail, want)
				}
			}
		})
	}
}

func TestCSRFConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     CSRFConfig
		wantErr string // "" for valid
	}{
		{"zero", CSRFConfig{}, ""},
		{"full", CSRFConfig{TrustedOrigins: []string{"https://a.example", "http://localhost:8080"},
			BypassPatterns: []string{"POST /hooks/{name}", "/public/"}}, ""},
		{"no scheme", CSRFConfig{TrustedOrigins: []string{"https://a.example", "b.example"}}, "trustedOrigins[1]: "},
		{"path", CSRFConfig{TrustedOrigins: []string{"https://a.example/"}}, "trustedOrigins[0]: "},
		{"upper case", CSRFConfig{TrustedOrigins: []string{"https://A.example"}}, "trustedOrigins[0]: origin \"https://A.example\" never matches: browsers send origins in lower case"},
		{"default port", CSRFConfig{TrustedOrigins: []string{"https://a.example:443"}}, "trustedOrigins[0]: origin \"https://a.example:443\" never matches: browsers leave out the default port"},
		{"user information", CSRFConfig{TrustedOrigins: []string{"https://me@a.example"}}, "trustedOrigins[0]: "},
		{"bad pattern", CSRFConfig{BypassPatterns: []string{"POST /a", "POST /{x"}}, "bypassPatterns[1]: parsing \"POST /{x\""},
		{"empty pattern", CSRFConfig{BypassPatterns: []string{""}}, "bypassPatterns[0]: the pattern is empty"},
		{"same pattern twice", CSRFConfig{BypassPatterns: []string{"POST /a", "/b", "POST /a"}}, "bypassPatterns[2]: \"POST /a\" conflicts with bypassPatterns[0] \"POST /a\""},
		{"conflicting patterns", CSRFConfig{BypassPatterns: []string{"POST /a/{x}", "/a/b"}}, "bypassPatterns[1]: \"/a/b\" conflicts with bypassPatterns[0] \"POST /a/{x}\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			mw, csrfErr := CSRF(tt.cfg)
			switch {
			case tt.wantErr == "" && (err != nil || csrfErr != nil || mw == nil):
				t.Errorf("got Validate %v, CSRF %v, want no error", err, csrfErr)
			case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), "validating csrf config: "+tt.wantErr)):
				t.Errorf("got %v, want an error starting %q", err, "validating csrf config: "+tt.wantErr)
			case tt.wantErr != "" && (csrfErr == nil || mw != nil):
				t.Errorf("got CSRF error %v, want Validate's", csrfErr)
			}
		})
	}
}

func ExampleCSRF() {
	csrf, err := CSRF(CSRFConfig{TrustedOrigins: []string{"https://admin.example"}})
	if err != nil {
		panic(err)
	}
	h := csrf(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, origin := range []string{"https://admin.example", "https://evil.example"} {
		req := httptest.NewRequest("POST", "http://api.example/items", nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", origin)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(origin, rec.Code)
	}
	// Output:
	// https://admin.example 200
	// https://evil.example 403
}
