package tokens

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock that tests move by hand.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newDenylist(t testing.TB, max int, now func() time.Time) *Denylist {
	t.Helper()
	d, err := NewDenylist(DenylistConfig{Max: max, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDenylistRevoke(t *testing.T) {
	c := newClock()
	d := newDenylist(t, 0, c.Now)
	if err := d.Revoke("a", c.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := d.Revoke("b", c.Now().Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := d.Revoke("past", c.Now()); err != nil || d.Revoked("past") {
		t.Errorf("revoking until now: %v, Revoked %v; want nothing remembered", err, d.Revoked("past"))
	}
	if !d.Revoked("a") || !d.Revoked("b") || d.Revoked("c") || d.Len() != 2 {
		t.Fatalf("Revoked a, b, c = %v, %v, %v, Len %d; want true, true, false, 2", d.Revoked("a"), d.Revoked("b"), d.Revoked("c"), d.Len())
	}
	// A later end extends an entry; an earlier one does not shorten it.
	if err := d.Revoke("a", c.Now().Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := d.Revoke("b", c.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	c.Advance(90 * time.Second)
	if n := d.Len(); n != 2 || !d.Revoked("a") || !d.Revoked("b") {
		t.Errorf("after 90s: Len %d, a %v, b %v; want 2, true, true", n, d.Revoked("a"), d.Revoked("b"))
	}
	c.Advance(time.Minute)
	if n := d.Len(); n != 1 || d.Revoked("a") || !d.Revoked("b") {
		t.Errorf("after 150s: Len %d, a %v, b %v; want 1, false, true", n, d.Revoked("a"), d.Revoked("b"))
	}
	c.Advance(time.Hour)
	if n := d.Len(); n != 0 {
		t.Errorf("after an hour: Len %d, want 0", n)
	}
}

func TestDenylistJTI(t *testing.T) {
	cases := []struct {
		name, jti, err string
	}{
		{"empty", "", "tokens: revoking: jti is empty"},
		{"too long", strings.Repeat("j", MaxJTILen+1), "tokens: revoking: jti is 129 bytes, over the limit of 128"},
		{"longest", strings.Repeat("j", MaxJTILen), ""},
		{"usual", "0123456789abcdef0123456789abcdef", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			err := newDenylist(t, 0, c.Now).Revoke(tc.jti, c.Now().Add(time.Minute))
			if got := fmt.Sprint(err); (tc.err == "" && err != nil) || (tc.err != "" && got != tc.err) {
				t.Errorf("Revoke = %v, want %q", got, tc.err)
			}
		})
	}
}

// TestDenylistFull: a full denylist refuses a new entry rather than drop a
// live one, and makes room as entries end.
func TestDenylistFull(t *testing.T) {
	c := newClock()
	d := newDenylist(t, 2, c.Now)
	for i, until := range []time.Duration{time.Minute, time.Hour} {
		if err := d.Revoke(fmt.Sprint("j", i), c.Now().Add(until)); err != nil {
			t.Fatal(err)
		}
	}
	err := d.Revoke("j2", c.Now().Add(time.Hour))
	if !errors.Is(err, ErrDenylistFull) || err.Error() != "tokens: revoking jti j2: the denylist is full: all 2 entries are live" {
		t.Fatalf("Revoke when full = %v, want ErrDenylistFull", err)
	}
	if !d.Revoked("j0") || !d.Revoked("j1") || d.Revoked("j2") {
		t.Error("a live entry was dropped, or the refused one kept")
	}
	if err := d.Revoke("j1", c.Now().Add(2*time.Hour)); err != nil {
		t.Errorf("extending a held entry when full: %v", err)
	}
	c.Advance(time.Minute)
	if err := d.Revoke("j2", c.Now().Add(time.Hour)); err != nil {
		t.Errorf("Revoke once j0 ended: %v", err)
	}
	if d.Revoked("j0") || !d.Revoked("j2") {
		t.Error("the ended entry was not purged to make room")
	}
}

func TestDenylistConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		max int
		err string
	}{
		{0, ""},
		{1, ""},
		{MaxDenylistMax, ""},
		{-1, "tokens: DenylistConfig.Max -1 is outside 0..10000000"},
		{MaxDenylistMax + 1, "tokens: DenylistConfig.Max 10000001 is outside 0..10000000"},
	} {
		_, err := NewDenylist(DenylistConfig{Max: tc.max})
		if got := fmt.Sprint(err); (tc.err == "" && err != nil) || (tc.err != "" && got != tc.err) {
			t.Errorf("Max %d: got %v, want %q", tc.max, got, tc.err)
		}
	}
}

func fullDenylist(b testing.TB, n int) (*Denylist, []string) {
	b.Helper()
	c := newClock()
	d := newDenylist(b, n, c.Now)
	jtis := make([]string, n)
	for i := range jtis {
		jtis[i] = fmt.Sprintf("%032x", i)
		if err := d.Revoke(jtis[i], c.Now().Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	return d, jtis
}

func TestRevokedDoesNotAllocate(t *testing.T) {
	d, jtis := fullDenylist(t, 1000)
	miss := fmt.Sprintf("%032x", -1)
	if n := testing.AllocsPerRun(1000, func() { _ = d.Revoked(jtis[7]) || d.Revoked(miss) }); n != 0 {
		t.Errorf("Revoked allocates %v times per call, want 0", n)
	}
}

func BenchmarkRevoked(b *testing.B) {
	d, jtis := fullDenylist(b, DefaultDenylistMax)
	miss := fmt.Sprintf("%032x", -1)
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !d.Revoked(jtis[12345]) {
				b.Fatal("not revoked")
			}
		}
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d.Revoked(miss) {
				b.Fatal("revoked")
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = d.Revoked(miss)
			}
		})
	})
}

func TestDenylistEntriesRestore(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	d, _ := NewDenylist(DenylistConfig{Now: func() time.Time { return now }})
	_ = d.Revoke("a", now.Add(time.Minute))
	_ = d.Revoke("b", now.Add(time.Hour))
	now = now.Add(2 * time.Minute)
	got := d.Entries()
	if len(got) != 1 || !got["b"].Equal(now.Add(58*time.Minute)) {
		t.Fatalf("Entries = %v, want only b", got)
	}
	again, _ := NewDenylist(DenylistConfig{Now: func() time.Time { return now }})
	for jti, until := range got {
		if err := again.Revoke(jti, until); err != nil {
			t.Fatal(err)
		}
	}
	if !again.Revoked("b") || again.Revoked("a") {
		t.Fatal("restored denylist differs")
	}
}
