package keys

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"
)

// OSKeyring keeps a random KEK in the operating system's keyring (the
// Secret Service on Linux, Keychain on macOS, Credential Manager on
// Windows) under service and account. A keyring that does not answer
// within timeout counts as absent.
func OSKeyring(service, account string, timeout time.Duration) KEKSource {
	return osKeyring{service: service, account: account, timeout: timeout}
}

type osKeyring struct {
	service, account string
	timeout          time.Duration
}

type keyringParams struct {
	Service string `json:"service"`
	Account string `json:"account"`
}

func (k osKeyring) Name() string { return "os-keyring" }

func (k osKeyring) KEK(params json.RawMessage) ([]byte, json.RawMessage, error) {
	p := keyringParams{Service: k.service, Account: k.account}
	if params != nil {
		if err := json.Unmarshal(params, &p); err != nil || p.Service == "" || p.Account == "" {
			return nil, nil, errors.New("the stored keyring entry name is not valid")
		}
	}
	out, _ := json.Marshal(p)
	type result struct {
		kek []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		kek, err := k.getOrCreate(p, params == nil)
		done <- result{kek, err}
	}()
	select {
	case r := <-done:
		return r.kek, out, r.err
	case <-time.After(k.timeout):
		return nil, nil, fmt.Errorf("the OS keyring did not answer within %v", k.timeout)
	}
}

func (k osKeyring) getOrCreate(p keyringParams, create bool) ([]byte, error) {
	s, err := keyring.Get(p.Service, p.Account)
	if errors.Is(err, keyring.ErrNotFound) && create {
		kek := make([]byte, 32)
		_, _ = rand.Read(kek)
		if err := keyring.Set(p.Service, p.Account, hex.EncodeToString(kek)); err != nil {
			return nil, err
		}
		return kek, nil
	}
	if err != nil {
		return nil, err
	}
	kek, err := hex.DecodeString(s)
	if err != nil || len(kek) != 32 {
		return nil, fmt.Errorf("the keyring entry %s/%s does not hold a 32-byte key", p.Service, p.Account)
	}
	return kek, nil
}
