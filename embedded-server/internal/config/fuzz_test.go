package config

import (
	"errors"
	"testing"
)

// FuzzDecode checks that no document makes Decode panic, and that whatever
// Decode accepts survives Marshal and Decode again unchanged.
func FuzzDecode(f *testing.F) {
	seed, _ := Default().Marshal()
	f.Add(seed)
	f.Add([]byte(`{"server": {"listen": "127.0.0.1:0", "readTimeout": "1s"}, "routes": [{"id": "a", "mock": {"headers": {"a": "b"}}}]}`))
	f.Add([]byte(`{"routes": [null, 1, "x", {"mock": null}]}`))
	f.Add([]byte(`{"server": {"maxHeaderBytes": -9223372036854775809}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Decode(data)
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Decode returned %T %v, want non-empty Errors", err, err)
			}
			return
		}
		_ = cfg.Validate()
		out, err := cfg.Marshal()
		if err != nil {
			t.Fatalf("Marshal after Decode: %v", err)
		}
		again, err := Decode(out)
		if err != nil {
			t.Fatalf("Decode(Marshal(Decode(x))) = %v\n%s", err, out)
		}
		out2, _ := again.Marshal()
		if string(out) != string(out2) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
	})
}
