package inspect

import "testing"

func TestFingerprint(t *testing.T) {
	cases := []struct{ name, sql, want string }{
		{"placeholders", `SELECT "id" FROM "users" WHERE "id" = $1`, `select "id" from "users" where "id" = ?`},
		{"question marks", "SELECT `id` FROM `users` WHERE `id` = ?", "select `id` from `users` where `id` = ?"},
		{"in list", `SELECT * FROM t WHERE id IN ($1, $2, $3)`, `select * from t where id in (?)`},
		{"values rows", `INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?)`, `insert into t (a, b) values (?)`},
		{"literals", `select * from t where name = 'O''Brien' and n > 42 and x = 1.5e3`, `select * from t where name = ? and n > ? and x = ?`},
		{"digits in names", `SELECT t1.col2 FROM t1`, `select t1.col2 from t1`},
		{"whitespace and comments", "SELECT  *\n\tFROM t -- note\n WHERE /* c */ a = ?", `select * from t where a = ?`},
		{"quoted identifiers keep case", `SELECT "MixedCase" FROM "T"`, `select "MixedCase" from "T"`},
		{"unterminated quote", `SELECT 'abc`, `select ?`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Fingerprint(c.sql); got != c.want {
				t.Errorf("Fingerprint(%q)\n got %q\nwant %q", c.sql, got, c.want)
			}
		})
	}
}

func TestFingerprintSameShape(t *testing.T) {
	a := Fingerprint(`SELECT * FROM users WHERE id IN ($1)`)
	b := Fingerprint(`SELECT * FROM users WHERE id IN ($1, $2, $3, $4)`)
	if a != b {
		t.Errorf("IN lists of different lengths: %q != %q", a, b)
	}
}

func FuzzFingerprint(f *testing.F) {
	for _, s := range []string{`SELECT 'a''b' FROM "x"`, "/* x", "--", `$1$2`, "`a``b`"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fp := Fingerprint(s)
		if Fingerprint(fp) != fp {
			t.Errorf("not idempotent: %q → %q → %q", s, fp, Fingerprint(fp))
		}
	})
}

func BenchmarkFingerprint(b *testing.B) {
	sql := `SELECT "id", "name", "email", "age", "token" FROM "users" WHERE "age" IS NOT NULL AND (("age" < $1) OR ("age" = $2 AND "id" > $3)) ORDER BY "age" DESC, "id" LIMIT 20`
	b.ReportAllocs()
	for b.Loop() {
		Fingerprint(sql)
	}
}
