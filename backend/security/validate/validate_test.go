package validate

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/covetpy/covet/backend/problem"
)

type address struct {
	Lines []string `json:"lines" validate:"required,min=1,dive,max=10"`
}

type signup struct {
	Email   string   `json:"email" validate:"required,email,max=200"`
	Name    string   `json:"name" validate:"required,max=5"`
	Age     int      `json:"age" validate:"gte=13,lte=150"`
	Role    string   `json:"role" validate:"omitempty,oneof=user admin"`
	Bio     string   `json:"bio" validate:"max=200" sanitize:"ugc"`
	Title   *string  `json:"title" sanitize:"strict"`
	Address *address `json:"address" validate:"omitempty"`
}

func decode(t *testing.T, body string, limit int64) (*signup, *problem.Details) {
	t.Helper()
	var in signup
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	err := New().DecodeJSON(w, r, &in, limit)
	if err == nil {
		return &in, nil
	}
	p, ok := err.(*problem.Details)
	if !ok {
		t.Fatalf("DecodeJSON = %T %v, want *problem.Details", err, err)
	}
	return nil, p
}

func TestProblemsNameFields(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		want       []string // path: message
	}{
		{"valid", `{"email": "a@b.co", "name": "Ann", "age": 30}`, 0, nil},
		{"missing and wrong", `{"email": "nope", "age": 7, "role": "root"}`, 400, []string{"age: must be at least 13", "email: must be an email address", "name: is required", "role: must be one of: user admin"}},
		{"too long", `{"email": "a@b.co", "name": "Annabelle", "age": 30}`, 400, []string{"name: must have at most 5 characters or items"}},
		{"nested", `{"email": "a@b.co", "name": "Ann", "age": 30, "address": {"lines": ["ok", "this line is too long"]}}`, 400, []string{"address.lines[1]: must have at most 10 characters or items"}},
		{"unknown field", `{"email": "a@b.co", "name": "Ann", "age": 30, "admin": true}`, 400, []string{"admin: unknown field"}},
		{"wrong type", `{"email": "a@b.co", "name": "Ann", "age": "thirty"}`, 400, []string{"age: want int, got a JSON string"}},
		{"syntax", `{"email": `, 400, nil},
		{"two values", `{"email": "a@b.co", "name": "Ann", "age": 30} {}`, 400, nil},
		{"empty", ``, 400, nil},
		{"too big", `{"bio": "` + strings.Repeat("x", 300) + `"}`, 413, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, p := decode(t, c.body, 256)
			if c.status == 0 {
				if p != nil {
					t.Fatalf("problem %+v", p)
				}
				return
			}
			if p == nil || p.Status != c.status {
				t.Fatalf("problem = %+v, want status %d", p, c.status)
			}
			var got []string
			for _, e := range p.Errors {
				got = append(got, e.Path+": "+e.Message)
			}
			if c.want != nil && strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("errors\n got %q\nwant %q", got, c.want)
			}
			if _, err := json.Marshal(p); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	body := `{"email": "a@b.co", "name": "Ann", "age": 30,
	  "bio": "<b>hi</b> <script>alert(1)</script><a href=\"javascript:alert(2)\">x</a><img src=x onerror=alert(3)><a href=\"https://example.com\">ok</a>",
	  "title": "<i>Dr</i> <style>*{}</style>"}`
	in, p := decode(t, body, 1<<20)
	if p != nil {
		t.Fatalf("problem %+v", p)
	}
	for _, bad := range []string{"<script", "javascript:", "onerror", "alert(1)"} {
		if strings.Contains(in.Bio, bad) {
			t.Errorf("bio kept %q: %s", bad, in.Bio)
		}
	}
	if !strings.Contains(in.Bio, "<b>hi</b>") || !strings.Contains(in.Bio, `href="https://example.com"`) || !strings.Contains(in.Bio, `rel="nofollow`) {
		t.Errorf("bio lost safe markup: %s", in.Bio)
	}
	if *in.Title != "Dr " {
		t.Errorf("strict title = %q, want the text only", *in.Title)
	}
}

func TestBadTags(t *testing.T) {
	type wrongPolicy struct {
		S string `sanitize:"html"`
	}
	type wrongKind struct {
		N int `sanitize:"strict"`
	}
	for _, v := range []any{&wrongPolicy{}, &wrongKind{}} {
		if err := New().Struct(v); err == nil || strings.Contains(err.Error(), "Bad Request") {
			t.Errorf("Struct(%T) = %v, want a programming error", v, err)
		}
	}
	for _, v := range []any{42, signup{}, (*signup)(nil)} {
		if err := New().Struct(v); err == nil {
			t.Errorf("Struct(%T) succeeded", v)
		}
	}
}
