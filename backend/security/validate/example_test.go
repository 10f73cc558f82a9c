package validate_test

import (
	"fmt"

	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/backend/security/validate"
)

func Example() {
	type comment struct {
		Author string `json:"author" validate:"required,max=40"`
		Body   string `json:"body" validate:"required,max=2000" sanitize:"ugc"`
	}
	v := validate.New()
	c := comment{Body: `nice <script>alert(1)</script><b>post</b>`}
	err := v.Struct(&c)
	for _, e := range err.(*problem.Details).Errors {
		fmt.Println(e.Path+":", e.Message)
	}
	fmt.Println(c.Body)
	// Output:
	// author: is required
	// nice <b>post</b>
}
