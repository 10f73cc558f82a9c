//go:build unix

package backup

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// pgOSUser is the OS user a temporary PostgreSQL runs as when this process
// runs as root.
type pgOSUser struct {
	name     string
	uid, gid int
	groups   []int
}

// pgServerUser returns the user server programs must run as: nil unless
// this process runs as root, which PostgreSQL refuses.
func pgServerUser(name string) (*pgOSUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("looking up user %s, who runs PostgreSQL (PostgresConfig.RunAs; PostgreSQL refuses to run as root): %w", name, err)
	}
	pu := &pgOSUser{name: name}
	if pu.uid, err = strconv.Atoi(u.Uid); err != nil {
		return nil, fmt.Errorf("user %s has uid %q", name, u.Uid)
	}
	if pu.gid, err = strconv.Atoi(u.Gid); err != nil {
		return nil, fmt.Errorf("user %s has gid %q", name, u.Gid)
	}
	if pu.uid == 0 {
		return nil, fmt.Errorf("user %s is root, which PostgreSQL refuses to run as", name)
	}
	gids, _ := u.GroupIds()
	for _, g := range gids {
		if n, err := strconv.Atoi(g); err == nil {
			pu.groups = append(pu.groups, n)
		}
	}
	if !slices.Contains(pu.groups, pu.gid) {
		pu.groups = append(pu.groups, pu.gid)
	}
	return pu, nil
}

// pgSysProcAttr starts a program in its own process group (so that a
// terminal's Ctrl-C reaches this process, which stops it in order), as u
// when set: what `setpriv --reuid --regid --init-groups` does.
func pgSysProcAttr(u *pgOSUser) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if u != nil {
		groups := make([]uint32, len(u.groups))
		for i, g := range u.groups {
			groups[i] = uint32(g)
		}
		attr.Credential = &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid), Groups: groups}
	}
	return attr
}

// chownTree gives dir and everything in it to u.
func chownTree(dir string, u *pgOSUser) error {
	if u == nil {
		return nil
	}
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, u.uid, u.gid)
	})
}

// checkEnter reports whether u may enter dir: search permission on it and
// every folder above it (by mode bits; ACLs are not read).
func checkEnter(dir string, u *pgOSUser) error {
	if u == nil {
		return nil
	}
	for p := dir; ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		mode := st.Mode().Perm()
		var ok2 bool
		switch {
		case int(sys.Uid) == u.uid:
			ok2 = mode&0o100 != 0
		case slices.Contains(u.groups, int(sys.Gid)):
			ok2 = mode&0o010 != 0
		default:
			ok2 = mode&0o001 != 0
		}
		if !ok2 {
			return fmt.Errorf("user %s, who runs the temporary PostgreSQL, cannot enter %s (mode %v, owner uid %d): give it search permission (chmod o+x %s) or set PostgresConfig.WorkDir to a folder it can enter", u.name, p, mode, sys.Uid, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}
