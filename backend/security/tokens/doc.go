// Package tokens revokes JWTs one by one and rotates refresh tokens with
// reuse detection, on top of package jwt.
//
// A Denylist holds revoked jti values until their tokens expire; it is the
// jwt.Config.Denylist of the access token verifier. Sessions starts a
// session (a "family") at each sign-in and exchanges its refresh token
// for a new pair at each refresh, following the OAuth 2.0 Security BCP
// (RFC 9700, section 4.14.2): only the latest refresh token of a family
// is accepted, and presenting an earlier one again ends the family and
// revokes its live access tokens, so a stolen refresh token is worth
// little once either party uses it.
//
//	deny, _ := tokens.NewDenylist(tokens.DenylistConfig{})
//	cfg := jwt.Config{Issuer: "https://api.example.com", Audience: "api", Denylist: deny}
//	sessions, _ := tokens.NewSessions(tokens.SessionsConfig{JWT: cfg, Keys: ring, Denylist: deny})
//	pair, err := sessions.Start(jwt.Claims{RegisteredClaims: gojwt.RegisteredClaims{Subject: "u1"}})
//	…
//	pair, err = sessions.Refresh(pair.Refresh) // errors.Is(err, tokens.ErrReuse): alert
//	…
//	err = sessions.End(pair.Refresh) // logout
//	claims, err := jwt.NewVerifier(cfg, ring).Verify(pair.Access, jwt.Access) // "revoked: …"
//
// Both keep their state in memory, bounded by explicit limits; when full
// they return ErrDenylistFull or ErrTooManySessions rather than forget a
// live entry. A restart ends every session (fail closed: refresh tokens
// are refused and users sign in again) and forgets the Denylist (access
// tokens revoked before it stay valid until they expire, AccessTTL at
// most). A persistent store can replace the unexported state later.
package tokens
