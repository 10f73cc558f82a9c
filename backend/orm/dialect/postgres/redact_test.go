package postgres

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// dsnForms writes a DSN that fails to parse (sslmode=bogus) with password
// pw in each place a password can be, correctly escaped.
func dsnForms(pw string) map[string]string {
	kw := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw)
	return map[string]string{
		"user info":        "postgres://" + url.UserPassword("u", pw).String() + "@127.0.0.1:5432/x?sslmode=bogus",
		"query":            "postgres://u@127.0.0.1:5432/x?password=" + url.QueryEscape(pw) + "&sslmode=bogus",
		"keyword quoted":   "host=127.0.0.1 user=u password='" + kw + "' sslmode=bogus",
		"keyword unquoted": "host=127.0.0.1 user=u password=" + strings.NewReplacer(`\`, `\\`, " ", `\ `, "'", `\'`).Replace(pw) + " sslmode=bogus",
	}
}

// openError is New's error for dsn when dsn does not parse, "" when it
// does (and New would connect).
func openError(dsn string) string {
	if _, err := pgxpool.ParseConfig(dsn); err == nil {
		return ""
	}
	_, err := openPool(context.Background(), Config{}, "DSN", dsn)
	return err.Error()
}

// FuzzParseErrorHidesPassword: whatever the password, the error for a DSN
// that does not parse is the same as with another password, or at least
// does not contain it.
func FuzzParseErrorHidesPassword(f *testing.F) {
	for _, seed := range []string{"topsecret", "p@ss:word", "it's", `back\slash`, "two words", "%zz", "pass%77ord", "'", `\`, "ünï¢ødé", "a@b@c", "x?y&z=1", "`: "} {
		f.Add(seed)
	}
	const other = "Zq9-other-password"
	want := map[string]string{}
	for form, dsn := range dsnForms(other) {
		want[form] = openError(dsn)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		if len(pw) < 4 || strings.ContainsRune(pw, 0) {
			t.Skip() // short strings occur in any message by chance
		}
		for form, dsn := range dsnForms(pw) {
			got := openError(dsn)
			if got == want[form] {
				continue
			}
			if strings.Contains(got, pw) && !strings.Contains(want[form], pw) {
				t.Errorf("%s: got %q, which shows the password %q", form, got, pw)
			}
		}
	})
}

func TestPasswords(t *testing.T) {
	cases := []struct {
		name, dsn string
		want      []string // each must be found
	}{
		{"URL", "postgres://u:p%40ss@h/db", []string{"p%40ss", "p@ss"}},
		{"URL two @", "postgres://u:a@b@h/db", []string{"a@b"}},
		{"query", "postgres://u@h/db?sslmode=disable&password=s%20s&sslpassword=k", []string{"s%20s", "s s", "k"}},
		{"encoded key", "postgres://u@h/db?pass%77ord=hidden", []string{"hidden"}},
		{"keyword", "host=h password=plain user=u", []string{"plain"}},
		{"keyword quoted", `host=h password = 'a \'b\' c' user=u`, []string{`'a \'b\' c'`, "a 'b' c"}},
		{"keyword unquoted escapes", `password=a\ b user=u`, []string{`a\ b`, "a b"}},
		{"keyword unterminated", `host=h password='open`, []string{"'open"}},
		{"sslpassword", "sslpassword=key host=h", []string{"key"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := passwords(c.dsn)
			for _, w := range c.want {
				found := false
				for _, g := range got {
					found = found || g == w
				}
				if !found {
					t.Errorf("got %q, want it to include %q", got, w)
				}
			}
			if red := redact(c.dsn, got); strings.Contains(red, c.want[len(c.want)-1]) {
				t.Errorf("redacted: got %q", red)
			}
		})
	}
}
