package mysql

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseDSN(t *testing.T) {
	cases := []struct {
		name, dsn                 string
		user, pass, net, addr, db string
		timeout                   time.Duration
		params                    map[string]string // expected among cfg.Params
		charset                   string            // expected in cfg.FormatDSN()
	}{
		{name: "url", dsn: "mysql://app:s3cret@db.local:3307/shop",
			user: "app", pass: "s3cret", net: "tcp", addr: "db.local:3307", db: "shop", timeout: DefaultConnectTimeout},
		{name: "url default port, no password", dsn: "mysql://root@127.0.0.1/test",
			user: "root", net: "tcp", addr: "127.0.0.1:3306", db: "test", timeout: DefaultConnectTimeout},
		{name: "url ipv6", dsn: "mysql://root@[::1]:3310/test",
			user: "root", net: "tcp", addr: "[::1]:3310", db: "test", timeout: DefaultConnectTimeout},
		{name: "url encoded password", dsn: "mysql://app:p%40ss%2Fw%3Ard%3F@h/db",
			user: "app", pass: "p@ss/w:rd?", net: "tcp", addr: "h:3306", db: "db", timeout: DefaultConnectTimeout},
		{name: "url without database", dsn: "mysql://app@h:1",
			user: "app", net: "tcp", addr: "h:1", timeout: DefaultConnectTimeout},
		{name: "url driver params", dsn: "mysql://app@h/db?charset=utf8mb4&timeout=2s&parseTime=false&interpolateParams=true&multiStatements=true",
			user: "app", net: "tcp", addr: "h:3306", db: "db", timeout: 2 * time.Second, charset: "charset=utf8mb4"},
		{name: "url session variables", dsn: "mysql://app@h/db?wait_timeout=600&sql_mode=%27TRADITIONAL%27&time_zone=%27%2B02%3A00%27",
			user: "app", net: "tcp", addr: "h:3306", db: "db", timeout: DefaultConnectTimeout,
			params: map[string]string{"wait_timeout": "600", "sql_mode": "'TRADITIONAL'", "time_zone": "'+02:00'"}},
		{name: "url location with a slash", dsn: "mysql://app@h/db?loc=Europe/Paris",
			user: "app", net: "tcp", addr: "h:3306", db: "db", timeout: DefaultConnectTimeout},
		{name: "driver", dsn: "app:s3cret@tcp(10.0.0.1:3306)/shop?parseTime=false",
			user: "app", pass: "s3cret", net: "tcp", addr: "10.0.0.1:3306", db: "shop", timeout: DefaultConnectTimeout},
		{name: "driver default address", dsn: "root@/test",
			user: "root", net: "tcp", addr: "127.0.0.1:3306", db: "test", timeout: DefaultConnectTimeout},
		{name: "driver unix socket", dsn: "app:pw@unix(/run/mysqld/mysqld.sock)/shop?timeout=1s&wait_timeout=60",
			user: "app", pass: "pw", net: "unix", addr: "/run/mysqld/mysqld.sock", db: "shop", timeout: time.Second,
			params: map[string]string{"wait_timeout": "60"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseDSN(c.dsn)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName}
			want := []string{c.user, c.pass, c.net, c.addr, c.db}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("got user|pass|net|addr|db %q, want %q", got, want)
			}
			if cfg.Timeout != c.timeout {
				t.Errorf("got timeout %v, want %v", cfg.Timeout, c.timeout)
			}
			// Forced whatever the DSN says.
			if !cfg.ParseTime || cfg.Loc != time.UTC || cfg.InterpolateParams || cfg.MultiStatements || !cfg.RejectReadOnly || !cfg.ClientFoundRows {
				t.Errorf("got ParseTime=%v Loc=%v InterpolateParams=%v MultiStatements=%v RejectReadOnly=%v ClientFoundRows=%v, want true UTC false false true true",
					cfg.ParseTime, cfg.Loc, cfg.InterpolateParams, cfg.MultiStatements, cfg.RejectReadOnly, cfg.ClientFoundRows)
			}
			want2 := map[string]string{"sql_mode": DefaultSQLMode, "time_zone": DefaultTimeZone}
			for k, v := range c.params {
				want2[k] = v
			}
			for k, v := range want2 {
				if cfg.Params[k] != v {
					t.Errorf("got param %s=%q, want %q", k, cfg.Params[k], v)
				}
			}
			for k := range cfg.Params {
				if _, ok := want2[k]; !ok {
					t.Errorf("got unexpected session variable %s=%q (a driver parameter taken for a variable?)", k, cfg.Params[k])
				}
			}
			if c.charset != "" && !strings.Contains(cfg.FormatDSN(), c.charset) {
				t.Errorf("got %s, want %s", cfg.FormatDSN(), c.charset)
			}
		})
	}
}

func TestParseDSNErrors(t *testing.T) {
	cases := []struct{ name, dsn, want string }{
		{"url bad duration", "mysql://app:s3cret@h/db?timeout=soon", "timeout"},
		{"url bad bool", "mysql://app:s3cret@h/db?parseTime=maybe", "parseTime"},
		{"url unknown tls config", "mysql://app:s3cret@h/db?tls=mine", "tls"},
		{"url no host", "mysql://app:s3cret@/db", "no host"},
		{"url nested path", "mysql://app:s3cret@h/db/more", "path"},
		{"url fragment", "mysql://app:s3cret@h/db#x", "fragment"},
		{"url bad escape in query", "mysql://app:s3cret@h/db?a=%zz", "query"},
		{"url malformed", "mysql://app:s3cret@h:port/db", "malformed"},
		{"url bad escape in password", "mysql://app:s3cret%zz@h/db", "malformed"},
		{"url unescaped slash in password", "mysql://app:s3/cret@h/db", "malformed"},
		{"url unescaped hash in password", "mysql://app:1#s3cret@h/db", "malformed"},
		{"url at in a parameter", "mysql://app@h/db?init=s3cret@x", "malformed"},
		{"url colon in user", "mysql://a%3Ab:s3cret@h/db", "user name"},
		{"driver no slash", "app:s3cret@tcp(h:1)", "neither"},
		{"driver unterminated address", "app:s3cret@tcp(h:1/db", "neither"},
		{"driver bad param", "app:s3cret@tcp(h:1)/db?timeout=soon", "timeout"},
		{"empty", "", "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseDSN(c.dsn)
			if err == nil {
				t.Fatalf("got %+v, want an error", cfg)
			}
			msg := err.Error()
			if strings.Contains(msg, "s3cret") {
				t.Errorf("got %q, which shows the password", msg)
			}
			if !strings.HasPrefix(msg, "mysql: parsing DSN") || !strings.Contains(msg, c.want) {
				t.Errorf("got %q, want mysql: parsing DSN … naming %q", msg, c.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	cases := []struct{ name, dsn, want string }{
		{"url", "mysql://app:s3cret@h:1/db?x=y", "mysql://app:xxxxx@h:1/db?x=y"},
		{"url without password", "mysql://app@h:1/db", "mysql://app@h:1/db"},
		{"url unreadable", "mysql://app:s3cret@h:port/db", "mysql://(unreadable)"},
		{"driver", "app:s3cret@tcp(h:1)/db", "app:xxxxx@tcp(h:1)/db"},
		{"driver password with @ and /", "app:s3/cr@et@tcp(h:1)/db", "app:xxxxx@tcp(h:1)/db"},
		{"driver without password", "app@tcp(h:1)/db", "app@tcp(h:1)/db"},
		{"driver unreadable", "app:s3cret@tcp(h:1", "(unreadable DSN)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Redact(c.dsn); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// FuzzParseDSN checks that no DSN makes ParseDSN or Redact panic, that a
// DSN that parses always carries the forced settings, and that neither
// ever shows a password in either form.
func FuzzParseDSN(f *testing.F) {
	for _, s := range [][5]string{
		{"app", "s3cretpass", "db.local:3307", "shop", "charset=utf8mb4"},
		{"root", "", "127.0.0.1", "test", ""},
		{"app", "p@ss/w:rd?x", "h", "db", "timeout=soon"},
		{"a:b", "s3cretpass", "h", "d/b", "tls=mine"},
		{"app", "s3cretpass", "h:port", "db", "a=%zz"},
		{"app", "s3cretpass)", "[::1]:3306", "", "loc=Europe/Paris&wait_timeout=1"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	f.Fuzz(func(t *testing.T, user, pass, host, db, query string) {
		u := (&url.URL{Scheme: "mysql", User: url.UserPassword(user, pass), Host: host, Path: "/" + db, RawQuery: query}).String()
		raw := user + ":" + pass + "@tcp(" + host + ")/" + db + "?" + query
		for _, dsn := range []string{u, raw, "mysql://" + raw} {
			cfg, err := ParseDSN(dsn)
			red := Redact(dsn)
			if err == nil && (!cfg.ParseTime || cfg.InterpolateParams || cfg.MultiStatements || cfg.Loc != time.UTC || cfg.Timeout == 0) {
				t.Errorf("ParseDSN(%q): the forced settings are missing", dsn)
			}
			// Only a password that cannot occur elsewhere by chance is
			// looked for.
			if len(pass) < 6 || strings.ContainsAny(pass, "%") || strings.Contains(user+host+db+query+"mysql://tcp(xxxxx", pass) || strings.Contains(DefaultSQLMode+DefaultTimeZone, pass) {
				continue
			}
			if err != nil && strings.Contains(err.Error(), pass) {
				t.Errorf("ParseDSN(%q) = %q, which shows the password", dsn, err)
			}
			if strings.Contains(red, pass) {
				t.Errorf("Redact(%q) = %q, which shows the password", dsn, red)
			}
		}
	})
}
