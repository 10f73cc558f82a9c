package keys

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/covetpy/covet/backend/security/crypto"
	"github.com/covetpy/covet/backend/security/jwt"
)

const pass = "correct horse battery staple"

func TestStoreKeepsKeysAcrossOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "covet_data", "keys.json")
	st, err := OpenStore(path, NewRing(Config{}), Passphrase(pass))
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, alg := range []string{EdDSA, ES256, RS256, HS256} {
		k, err := st.Generate(alg)
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, k.ID)
	}
	if err := st.Promote(kids[0]); err != nil {
		t.Fatal(err)
	}
	if err := st.Revoke(kids[3]); err != nil {
		t.Fatal(err)
	}
	tok := issue(t, st.Ring())
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("store file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "PRIVATE") || strings.Contains(string(raw), kids[0]) {
		t.Fatal("the store file shows key material or kids in the clear")
	}

	again, err := OpenStore(path, NewRing(Config{}), Passphrase(pass))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := infoStates(again.Ring()), infoStates(st.Ring()); got != want {
		t.Fatalf("reopened keys %s, want %s", got, want)
	}
	if _, err := jwt.NewVerifier(cfg, again.Ring()).Verify(tok, jwt.Access); err != nil {
		t.Fatalf("a token signed before reopening: %v", err)
	}
	if again.Source() != "passphrase" {
		t.Fatalf("source %q", again.Source())
	}
}

func infoStates(r *Ring) string {
	var b strings.Builder
	for _, k := range r.List() {
		b.WriteString(k.ID + ":" + k.Alg + ":" + string(k.State) + " ")
	}
	return b.String()
}

func TestStoreRefusesWrongPassphraseAndTampering(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	st, err := OpenStore(path, NewRing(Config{}), Passphrase(pass))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Generate(EdDSA); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(path, NewRing(Config{}), Passphrase(pass+"!")); err == nil || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := OpenStore(path, NewRing(Config{}), KeyFile(filepath.Join(t.TempDir(), "kek"))); err == nil || !strings.Contains(err.Error(), "sealed with a key from the passphrase") {
		t.Fatalf("another source: %v", err)
	}
	if _, err := OpenStore(path, NewRing(Config{}), Passphrase("short")); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Fatalf("short passphrase: %v", err)
	}

	var f storeFile
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	f.Sealed[len(f.Sealed)/2] ^= 1
	b, _ = json.Marshal(f)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(path, NewRing(Config{}), Passphrase(pass)); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Fatalf("tampered store: %v", err)
	}
}

func TestStoreUndoesAChangeItCannotWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	st, err := OpenStore(path, NewRing(Config{}), KeyFile(filepath.Join(dir, "keys.kek")))
	if err != nil {
		t.Fatal(err)
	}
	k, err := st.Generate(EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	// A directory where the file was makes the rename fail.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := st.Promote(k.ID); err == nil {
		t.Fatal("Promote succeeded although the store could not be written")
	}
	if got := st.Ring().List()[0].State; got != Standby {
		t.Fatalf("after a failed write the key is %s, want standby", got)
	}
	if _, err := st.Generate(ES256); err == nil || len(st.Ring().List()) != 1 {
		t.Fatalf("Generate after a failed write: %v, %d keys", err, len(st.Ring().List()))
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".keys-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
}

type failingSource struct{}

func (failingSource) Name() string { return "os-keyring" }
func (failingSource) KEK(json.RawMessage) ([]byte, json.RawMessage, error) {
	return nil, nil, errors.New("no secret service")
}

func TestStoreFallsBackToTheNextSource(t *testing.T) {
	dir := t.TempDir()
	kekPath := filepath.Join(dir, "keys.kek")
	st, err := OpenStore(filepath.Join(dir, "keys.json"), NewRing(Config{}), failingSource{}, KeyFile(kekPath))
	if err != nil {
		t.Fatal(err)
	}
	if st.Source() != "key-file" {
		t.Fatalf("source %q, want key-file", st.Source())
	}
	if fi, err := os.Stat(kekPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v", err)
	}
	_, err = OpenStore(filepath.Join(t.TempDir(), "keys.json"), NewRing(Config{}), failingSource{})
	if err == nil || !strings.Contains(err.Error(), "no secret service") {
		t.Fatalf("no source at all: %v", err)
	}
}

func TestOSKeyringSource(t *testing.T) {
	keyring.MockInit() // the real Secret Service is not there on CI
	path := filepath.Join(t.TempDir(), "keys.json")
	src := OSKeyring("covet-test", path, time.Second)
	st, err := OpenStore(path, NewRing(Config{}), src)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := st.Generate(EdDSA)
	again, err := OpenStore(path, NewRing(Config{}), OSKeyring("ignored", "ignored", time.Second))
	if err != nil || again.Ring().List()[0].ID != k.ID {
		t.Fatalf("reopen through the keyring entry named in the file: %v", err)
	}
	if err := keyring.Delete("covet-test", path); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(path, NewRing(Config{}), src); err == nil {
		t.Fatal("opened although the keyring entry is gone")
	}
}

func TestRotationSchedule(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	r := NewRing(Config{Now: func() time.Time { return now }})
	s := Rotation{Every: 24 * time.Hour, Alg: EdDSA, Retain: 2 * time.Hour, Ahead: time.Hour}
	step := func(d time.Duration, wantChanged bool, want string) {
		t.Helper()
		now = now.Add(d)
		changed, err := r.Rotate(s)
		if err != nil || changed != wantChanged {
			t.Fatalf("at %v: changed %v, %v; want changed %v", now, changed, err, wantChanged)
		}
		var states []string
		for _, k := range r.List() {
			states = append(states, string(k.State))
		}
		if got := strings.Join(states, ","); got != want {
			t.Fatalf("at %v: states %s, want %s", now, got, want)
		}
	}
	step(0, true, "current")                         // nothing current: one is made at once
	step(22*time.Hour, false, "current")             // not due, not within Ahead
	step(90*time.Minute, true, "standby,current")    // 30 min before due: next key published
	step(30*time.Minute, true, "current,previous")   // due: standby promoted
	step(119*time.Minute, false, "current,previous") // previous kept for Retain
	step(time.Minute, true, "current,revoked")       // Retain over: revoked
	if next, ok := r.Next(s.Every); !ok || !next.Equal(now.Add(22*time.Hour)) {
		t.Fatalf("Next = %v, %v", next, ok)
	}
	if _, err := r.Rotate(Rotation{Alg: EdDSA}); err == nil {
		t.Fatal("a zero Every was accepted")
	}
}

// TestStoreBackupKey: the backup key is made once, kept sealed across
// opens and signing-key changes, and a store altered there does not open.
func TestStoreBackupKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	st, err := OpenStore(path, NewRing(Config{}), Passphrase(pass))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	if strings.Contains(string(before), `"backup"`) {
		t.Fatal("a new store already has a backup key")
	}
	k, err := st.BackupKey()
	if err != nil {
		t.Fatal(err)
	}
	ring := crypto.NewKeyring(crypto.KeyringConfig{})
	ring.Add(k, true)
	sealed, err := ring.Seal([]byte("backup data"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Generate(EdDSA); err != nil { // rewrites the file
		t.Fatal(err)
	}
	st2, err := OpenStore(path, NewRing(Config{}), Passphrase(pass))
	if err != nil {
		t.Fatal(err)
	}
	k2, err := st2.BackupKey()
	if err != nil || k2.ID() != BackupKeyID {
		t.Fatalf("BackupKey after reopening: %v, %v", k2, err)
	}
	ring2 := crypto.NewKeyring(crypto.KeyringConfig{})
	ring2.Add(k2, true)
	if got, err := ring2.Open(sealed, nil); err != nil || string(got) != "backup data" {
		t.Errorf("the reopened backup key opens %q, %v", got, err)
	}
	raw, _ := os.ReadFile(path)
	var f map[string]any
	json.Unmarshal(raw, &f)
	b, _ := f["backup"].(string)
	if b == "" {
		t.Fatal("no sealed backup key in the file")
	}
	f["backup"] = "A" + b[1:]
	if b[0] == 'A' {
		f["backup"] = "B" + b[1:]
	}
	altered, _ := json.Marshal(f)
	os.WriteFile(path, altered, 0o600)
	if _, err := OpenStore(path, NewRing(Config{}), Passphrase(pass)); err == nil || !strings.Contains(err.Error(), "backup key does not open") {
		t.Errorf("a store with an altered backup key opened: %v", err)
	}
}
