package admin

import (
	"net/http"
	"time"

	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/backend/security/keys"
)

// Keys is the signing-key store and the token tools of the Keys page.
// Errors it returns are *problem.Problem where the status matters (404
// for an unknown kid, 409 for a move the key's state does not allow).
type Keys interface {
	// Overview lists the keys and how they are kept and rotated.
	Overview() KeysOverview
	// Generate creates a standby key of alg.
	Generate(alg string) (keys.Info, error)
	// Move promotes, retires or revokes a key ("promote", "retire",
	// "revoke").
	Move(kid, action string) (keys.Info, error)
	// Mint signs a token with the current key.
	Mint(req MintRequest) (MintedToken, error)
	// Inspect decodes a token and says whether the server accepts it.
	Inspect(token string) TokenInspection
	// RevokeToken refuses one token, by its jti, until it expires.
	RevokeToken(token string) (RevokedToken, error)
}

// KeysOverview is GET /_covet/api/keys.
type KeysOverview struct {
	Keys []keys.Info `json:"keys"`
	// JWKS is the document served at JWKSURL.
	JWKS    keys.Set `json:"jwks"`
	JWKSURL string   `json:"jwksUrl"`
	// Store says where the keys are kept and what protects them.
	Store KeyStoreInfo `json:"store"`
	// Token settings from covet.json's auth section.
	Issuer     string `json:"issuer"`
	Audience   string `json:"audience"`
	Leeway     string `json:"leeway"`
	AccessTTL  string `json:"accessTTL"`
	RefreshTTL string `json:"refreshTTL"`
	// Rotation is the schedule; nil when keys rotate only by hand.
	Rotation *KeyRotation `json:"rotation,omitempty"`
}

// KeyStoreInfo says how private keys are kept at rest.
type KeyStoreInfo struct {
	Path string `json:"path"`
	// KEK is where the key-encryption key comes from: "os-keyring",
	// "passphrase" or "key-file".
	KEK string `json:"kek"`
	// Warning explains a weaker protection ("key-file": the key that
	// encrypts the store lies beside it).
	Warning string `json:"warning,omitempty"`
}

// KeyRotation is the rotation schedule.
type KeyRotation struct {
	Every string `json:"every"`
	Alg   string `json:"alg"`
	// Next is when the next rotation is due.
	Next *time.Time `json:"next,omitempty"`
}

// MintRequest is POST /_covet/api/tokens.
type MintRequest struct {
	Sub   string   `json:"sub"`
	Roles []string `json:"roles,omitempty"`
	Scope string   `json:"scope,omitempty"`
	// Aud overrides the configured audience (to test a wrong one).
	Aud string `json:"aud,omitempty"`
	// TTL is a Go duration; default the configured access TTL.
	TTL string `json:"ttl,omitempty"`
	// Type is "access" (default) or "refresh".
	Type string `json:"type,omitempty"`
	// Claims are extra claims; registered ones cannot be set this way.
	Claims map[string]any `json:"claims,omitempty"`
}

// MintedToken is what POST /_covet/api/tokens returns.
type MintedToken struct {
	Token   string    `json:"token"`
	Kid     string    `json:"kid"`
	JTI     string    `json:"jti"`
	Expires time.Time `json:"expires"`
}

// TokenInspection is what POST /_covet/api/tokens/inspect returns.
type TokenInspection struct {
	// Header and Claims are the decoded parts, nil when they do not decode.
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims"`
	// Type is "access" or "refresh" from the typ header, "" otherwise.
	Type  string `json:"type"`
	Valid bool   `json:"valid"`
	// Reason says exactly why the token is not accepted; "" when it is.
	Reason string `json:"reason"`
}

// RevokedToken is what POST /_covet/api/tokens/revoke returns.
type RevokedToken struct {
	JTI   string    `json:"jti"`
	Until time.Time `json:"until"`
}

// Limits of the keys endpoints.
const maxKeysRequest = 64 << 10

func (a *API) mountKeys(api func(string, http.HandlerFunc)) {
	api("GET /_covet/api/keys", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, a.keys.Overview()) })
	api("POST /_covet/api/keys", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Alg string `json:"alg"`
		}
		if !decodeBody(w, r, &in) {
			return
		}
		k, err := a.keys.Generate(in.Alg)
		if err != nil {
			problem.Write(w, err)
			return
		}
		writeJSONStatus(w, http.StatusCreated, k)
	})
	for _, action := range []string{"promote", "retire", "revoke"} {
		api("POST /_covet/api/keys/{kid}/"+action, func(w http.ResponseWriter, r *http.Request) {
			k, err := a.keys.Move(r.PathValue("kid"), action)
			if err != nil {
				problem.Write(w, err)
				return
			}
			writeJSON(w, k)
		})
	}
	api("POST /_covet/api/tokens", func(w http.ResponseWriter, r *http.Request) {
		var in MintRequest
		if !decodeBody(w, r, &in) {
			return
		}
		t, err := a.keys.Mint(in)
		if err != nil {
			problem.Write(w, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSONStatus(w, http.StatusCreated, t)
	})
	api("POST /_covet/api/tokens/inspect", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Token string `json:"token"`
		}
		if !decodeBody(w, r, &in) {
			return
		}
		writeJSON(w, a.keys.Inspect(in.Token))
	})
	api("POST /_covet/api/tokens/revoke", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Token string `json:"token"`
		}
		if !decodeBody(w, r, &in) {
			return
		}
		rt, err := a.keys.RevokeToken(in.Token)
		if err != nil {
			problem.Write(w, err)
			return
		}
		writeJSON(w, rt)
	})
}
