//go:build !unix

package backup

import (
	"errors"
	"syscall"
)

// pgOSUser is the OS user a temporary PostgreSQL runs as when this process
// runs as root; there is no root here.
type pgOSUser struct{ name string }

func pgServerUser(string) (*pgOSUser, error) { return nil, nil }

func pgSysProcAttr(*pgOSUser) *syscall.SysProcAttr { return nil }

func chownTree(string, *pgOSUser) error { return nil }

func checkEnter(_ string, u *pgOSUser) error {
	if u != nil {
		return errors.New("running PostgreSQL as another user is supported on Unix only")
	}
	return nil
}
