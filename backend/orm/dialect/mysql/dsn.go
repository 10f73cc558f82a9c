package mysql

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	driver "github.com/go-sql-driver/mysql"
)

// DefaultConnectTimeout bounds dialling the server when the DSN sets no
// timeout parameter.
const DefaultConnectTimeout = 5 * time.Second

// Session settings every connection gets unless the DSN sets the variable
// itself: strict mode, so that a missing or NULL value in a NOT NULL column
// is an error rather than a silent default, and UTC, matching the driver's
// time location. ANSI_QUOTES is deliberately absent: identifiers are quoted
// with backticks.
const (
	DefaultSQLMode  = "'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'"
	DefaultTimeZone = "'+00:00'"
)

// ParseDSN reads a mysql:// URL (mysql://user:pass@host:port/db?param=value,
// the form covet.json uses) or a go-sql-driver DSN
// (user:pass@tcp(host:port)/db?param=value) and returns the driver's
// configuration with what the ORM relies on forced:
//
//   - ParseTime and Loc=UTC: DATETIME columns scan into time.Time in UTC;
//   - InterpolateParams=false: values travel as real placeholders, never
//     spliced into the SQL text;
//   - MultiStatements=false: one statement per call;
//   - ClientFoundRows: an UPDATE reports the rows it matched, not only
//     those whose values changed;
//   - RejectReadOnly: a connection to a primary demoted to read-only (after
//     a failover) is dropped, so the pool reconnects to the new one; the
//     driver cannot tell this from a write in a read-only transaction,
//     whose connection it drops too (New's pools say so in the error);
//   - a connect timeout (DefaultConnectTimeout unless the DSN sets timeout);
//   - the session variables sql_mode (DefaultSQLMode) and time_zone (UTC),
//     unless the DSN sets them.
//
// In both forms the parameters are the driver's (charset, tls, timeout, …)
// and anything else is a session variable (wait_timeout=600). Errors name
// the problem and never show the password.
func ParseDSN(dsn string) (*driver.Config, error) {
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	return cfg, nil
}

// parseDSN is ParseDSN with errors that do not start with the package name.
func parseDSN(dsn string) (*driver.Config, error) {
	var cfg *driver.Config
	switch {
	case dsn == "":
		return nil, errors.New("parsing DSN: it is empty")
	case strings.HasPrefix(dsn, "mysql://"):
		var err error
		if cfg, err = parseURL(dsn); err != nil {
			return nil, err
		}
	default:
		var err error
		if cfg, err = driver.ParseDSN(dsn); err != nil {
			// The DSN is not shown: when the driver cannot read it, it
			// cannot tell where the password is either.
			err = scrub(err, passwordGuess(dsn))
			if name := badParam(dsn); name != "" {
				return nil, fmt.Errorf("parsing DSN: parameter %s: %v", name, err)
			}
			return nil, fmt.Errorf("parsing DSN: it is neither a mysql:// URL nor a go-sql-driver DSN (user:pass@tcp(host:port)/db?param=value): %v", err)
		}
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.InterpolateParams = false
	cfg.MultiStatements = false
	cfg.ClientFoundRows = true
	cfg.RejectReadOnly = true
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultConnectTimeout
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	if _, ok := cfg.Params["sql_mode"]; !ok {
		cfg.Params["sql_mode"] = DefaultSQLMode
	}
	if _, ok := cfg.Params["time_zone"]; !ok {
		cfg.Params["time_zone"] = DefaultTimeZone
	}
	return cfg, nil
}

// parseURL turns mysql://user:pass@host:port/db?params into the driver's
// configuration. The parameters go through the driver's own parser, so
// that charset, tls and the others mean what they mean in a driver DSN.
func parseURL(dsn string) (*driver.Config, error) {
	u, err := parseMySQLURL(dsn)
	if err != nil {
		// url.Parse's error quotes the whole URL, password included.
		return nil, errors.New("parsing DSN: the mysql:// URL is malformed (percent-encode any of @ / ? # : in the password, and @ in parameter values)")
	}
	red := redactURL(u)
	switch {
	case u.Hostname() == "":
		return nil, fmt.Errorf("parsing DSN %s: no host", red)
	case strings.Contains(u.User.Username(), ":"):
		return nil, fmt.Errorf("parsing DSN %s: the user name contains ':'", red)
	case u.Fragment != "":
		return nil, fmt.Errorf("parsing DSN %s: unexpected #fragment", red)
	}
	db := strings.TrimPrefix(u.Path, "/")
	if strings.Contains(db, "/") {
		return nil, fmt.Errorf("parsing DSN %s: the path must be /database, not /%s", red, db)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("parsing DSN %s: query: %v", red, err)
	}
	base := driver.NewConfig()
	base.User, base.Net, base.Addr, base.DBName = u.User.Username(), "tcp", addr, db
	base.Passwd, _ = u.User.Password()
	s := base.FormatDSN()
	if len(q) > 0 {
		// Encode escapes '/', which the driver's parser would otherwise
		// take for the database separator.
		sep := "?"
		if strings.Contains(s, "?") {
			sep = "&"
		}
		s += sep + q.Encode()
	}
	cfg, err := driver.ParseDSN(s)
	if err != nil {
		return nil, fmt.Errorf("parsing DSN %s: %v", red, scrub(err, base.Passwd))
	}
	return cfg, nil
}

// Redact returns dsn with its password replaced by xxxxx, for logs and
// error messages; a DSN that cannot be read comes back as a placeholder.
func Redact(dsn string) string {
	if strings.HasPrefix(dsn, "mysql://") {
		u, err := parseMySQLURL(dsn)
		if err != nil {
			return "mysql://(unreadable)"
		}
		return redactURL(u)
	}
	cfg, err := driver.ParseDSN(dsn)
	if err != nil {
		return "(unreadable DSN)"
	}
	if cfg.Passwd != "" {
		cfg.Passwd = "xxxxx"
	}
	return cfg.FormatDSN()
}

// parseMySQLURL parses a mysql:// URL, refusing one with an '@' after the
// host: that is most likely a password with an unescaped '/', '?' or '#',
// which would otherwise end up in the path, query or fragment, and so in
// messages. An '@' in a parameter value must be written %40.
func parseMySQLURL(dsn string) (*url.URL, error) {
	rest := strings.TrimPrefix(dsn, "mysql://")
	if i := strings.IndexAny(rest, "/?#"); i >= 0 && strings.Contains(rest[i:], "@") {
		return nil, errors.New("'@' after the host")
	}
	return url.Parse(dsn)
}

func redactURL(u *url.URL) string {
	if _, has := u.User.Password(); has {
		c := *u
		c.User = url.UserPassword(u.User.Username(), "xxxxx")
		return c.String()
	}
	return u.String()
}

// passwordGuess returns what the driver would take for the password of a
// user:pass@net(addr)/db DSN, or the text between the first ':' and the last
// '@' when the DSN has no structure the driver recognises: either way at
// least the real password when there is one.
func passwordGuess(dsn string) string {
	end := len(dsn)
	if slash := strings.LastIndexByte(dsn, '/'); slash >= 0 {
		end = slash
	}
	at := strings.LastIndexByte(dsn[:end], '@')
	if at < 0 {
		at = strings.LastIndexByte(dsn, '@')
	}
	if at < 0 {
		return ""
	}
	colon := strings.IndexByte(dsn[:at], ':')
	if colon < 0 {
		return ""
	}
	return dsn[colon+1 : at]
}

// badParam returns the name of the first query parameter of a driver DSN
// that the driver refuses on its own, or "".
func badParam(dsn string) string {
	_, query, ok := strings.Cut(dsn[strings.LastIndexByte(dsn, '/')+1:], "?")
	if !ok {
		return ""
	}
	for kv := range strings.SplitSeq(query, "&") {
		if _, err := driver.ParseDSN("/?" + kv); err != nil {
			name, _, _ := strings.Cut(kv, "=")
			return name
		}
	}
	return ""
}

// scrub returns err's message with every occurrence of password replaced.
func scrub(err error, password string) error {
	if password == "" {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "xxxxx"))
}
