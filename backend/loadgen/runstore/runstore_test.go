package runstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/loadgen"
	"github.com/covetpy/covet/backend/loadgen/runstore"
	"github.com/covetpy/covet/backend/metrics"
)

func TestStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "studio.db")
	st, err := runstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	older := &runstore.Run{ID: runstore.NewID(), Name: "older", Status: runstore.Completed, Source: "cli", StartedAt: t0,
		Spec:    loadgen.Spec{Method: "GET", URL: "http://127.0.0.1/a", Connections: 5},
		Result:  &loadgen.Result{Requests: 10, RPS: 5, Latency: loadgen.Latency{P50: 1.5, P99: 3}, Series: []loadgen.Second{{T: 1, Requests: 10}}},
		Signals: []metrics.Signals{{Requests: 10}}}
	newer := &runstore.Run{ID: runstore.NewID(), Status: runstore.Running, Source: "studio", StartedAt: t0.Add(time.Minute),
		Spec: loadgen.Spec{Method: "POST", URL: "http://127.0.0.1/b", Rate: 100}}
	for _, r := range []*runstore.Run{older, newer} {
		if err := st.Save(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	list, err := st.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if list[0].ID != newer.ID || list[0].Model != "open" || list[1].Model != "closed" || list[1].RPS != 5 || list[1].P99 != 3 {
		t.Errorf("List = %+v: want newest first with summaries", list)
	}
	got, err := st.Get(ctx, older.ID)
	if err != nil || got.Result.Series[0].Requests != 10 || got.Signals[0].Requests != 10 || !got.StartedAt.Equal(t0) {
		t.Errorf("Get = %+v, %v", got, err)
	}
	if r, err := st.Rename(ctx, older.ID, "baseline"); err != nil || r.Name != "baseline" {
		t.Errorf("Rename = %+v, %v", r, err)
	}
	if _, err := st.Rename(ctx, older.ID, strings.Repeat("x", runstore.MaxName+1)); err == nil {
		t.Error("Rename accepted a name over MaxName")
	}
	if _, err := st.Rename(ctx, older.ID, "a\nb"); err == nil {
		t.Error("Rename accepted a line break")
	}
	st.Close()

	// Reopened: the running run was cut off.
	st, err = runstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.FailInterrupted(ctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := st.Get(ctx, newer.ID); r.Status != runstore.Failed || r.Error == "" {
		t.Errorf("after FailInterrupted: %+v", r)
	}
	if r, _ := st.Get(ctx, older.ID); r.Name != "baseline" || r.Status != runstore.Completed {
		t.Errorf("the finished run changed: %+v", r)
	}
	if err := st.Delete(ctx, older.ID); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{st.Delete(ctx, older.ID), func() error { _, err := st.Get(ctx, older.ID); return err }()} {
		if !errors.Is(err, runstore.ErrNotFound) {
			t.Errorf("after Delete: %v, want ErrNotFound", err)
		}
	}
	if err := st.Save(ctx, &runstore.Run{}); err == nil {
		t.Error("Save accepted a run without an id")
	}
}

func TestOpenFailsClearly(t *testing.T) {
	_, err := runstore.Open(filepath.Join(t.TempDir(), "missing-dir", "studio.db"))
	if err == nil || !strings.Contains(err.Error(), "run store") {
		t.Errorf("Open in a missing folder = %v, want an error naming the run store", err)
	}
}
