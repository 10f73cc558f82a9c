package tokens_test

import (
	"errors"
	"fmt"
	"strings"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/covetpy/covet/backend/security/jwt"
	"github.com/covetpy/covet/backend/security/keys"
	"github.com/covetpy/covet/backend/security/tokens"
)

// setup returns Sessions and the verifier of access tokens that API
// handlers use; both share one Denylist.
func setup() (*tokens.Sessions, *jwt.Verifier) {
	ring := keys.NewRing(keys.Config{})
	k, _ := ring.Generate(keys.EdDSA)
	_ = ring.Promote(k.ID)
	deny, err := tokens.NewDenylist(tokens.DenylistConfig{})
	if err != nil {
		panic(err)
	}
	cfg := jwt.Config{Issuer: "https://api.example.com", Audience: "api", Denylist: deny}
	sessions, err := tokens.NewSessions(tokens.SessionsConfig{JWT: cfg, Keys: ring, Denylist: deny})
	if err != nil {
		panic(err)
	}
	return sessions, jwt.NewVerifier(cfg, ring)
}

// reason is why a token was refused, up to the colon.
func reason(err error) string {
	var r *jwt.Rejection
	if !errors.As(err, &r) {
		return fmt.Sprint(err)
	}
	before, _, _ := strings.Cut(r.Reason, ":")
	return before
}

// Login, refresh and logout.
func Example() {
	sessions, verifier := setup()

	// Login: after checking the password, start a session.
	pair, err := sessions.Start(jwt.Claims{RegisteredClaims: gojwt.RegisteredClaims{Subject: "u1"}, Roles: []string{"editor"}})
	if err != nil {
		panic(err) // tokens.ErrTooManySessions: answer 503
	}
	claims, err := verifier.Verify(pair.Access, jwt.Access)
	fmt.Println("login:", claims.Subject, claims.Roles, err)

	// Refresh: the client swaps its refresh token for a new pair.
	pair, err = sessions.Refresh(pair.Refresh)
	fmt.Println("refresh:", err)

	// Logout: the session ends and its access token is refused at once.
	err = sessions.End(pair.Refresh)
	fmt.Println("logout:", err)
	_, err = verifier.Verify(pair.Access, jwt.Access)
	fmt.Println("access after logout:", reason(err))
	_, err = sessions.Refresh(pair.Refresh)
	fmt.Println("refresh after logout:", reason(err))
	// Output:
	// login: u1 [editor] <nil>
	// refresh: <nil>
	// logout: <nil>
	// access after logout: revoked
	// refresh after logout: no session
}

// A refresh token used twice was copied: the whole session ends, for the
// thief and the user alike, who signs in again.
func ExampleSessions_Refresh_reuse() {
	sessions, verifier := setup()
	first, _ := sessions.Start(jwt.Claims{RegisteredClaims: gojwt.RegisteredClaims{Subject: "u1"}})
	second, _ := sessions.Refresh(first.Refresh) // the user refreshes

	_, err := sessions.Refresh(first.Refresh) // a thief replays the old token
	fmt.Println(errors.Is(err, tokens.ErrReuse), reason(err))
	_, err = verifier.Verify(second.Access, jwt.Access)
	fmt.Println(reason(err))
	_, err = sessions.Refresh(second.Refresh)
	fmt.Println(errors.Is(err, tokens.ErrNoSession))
	// Output:
	// true reused
	// revoked
	// true
}
