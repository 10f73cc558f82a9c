package password_test

import (
	"fmt"

	"github.com/covetpy/covet/backend/security/password"
)

func Example() {
	h := password.New(password.Params{}) // OWASP's argon2id parameters
	stored, err := h.Hash("correct horse battery staple")
	if err != nil {
		panic(err)
	}
	ok, rehash, err := h.Verify("correct horse battery staple", stored)
	fmt.Println(ok, rehash, err)
	ok, _, _ = h.Verify("Tr0ub4dor&3", stored)
	fmt.Println(ok)
	// Output:
	// true false <nil>
	// false
}
