package heartbeat

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testDriver is a database/sql driver whose connections answer pings and
// queries after a delay, or fail: enough to drive the SQL check through the
// real database/sql pool.
type testDriver struct {
	delay time.Duration
	err   error
}

func (d testDriver) Open(string) (driver.Conn, error) { return &testConn{d}, nil }

type testConn struct{ d testDriver }

func (c *testConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (c *testConn) Close() error                        { return nil }
func (c *testConn) Begin() (driver.Tx, error)           { return nil, errors.New("not supported") }
func (c *testConn) wait(ctx context.Context) error {
	select {
	case <-time.After(c.d.delay):
		return c.d.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (c *testConn) Ping(ctx context.Context) error { return c.wait(ctx) }
func (c *testConn) QueryContext(ctx context.Context, _ string, _ []driver.NamedValue) (driver.Rows, error) {
	if err := c.wait(ctx); err != nil {
		return nil, err
	}
	return &oneRow{}, nil
}

type oneRow struct{ done bool }

func (r *oneRow) Columns() []string { return []string{"?column?"} }
func (r *oneRow) Close() error      { return nil }
func (r *oneRow) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done, dest[0] = true, int64(1)
	return nil
}

var registerOnce sync.Once

func openTestDB(t *testing.T, name string) *sql.DB {
	t.Helper()
	registerOnce.Do(func() {
		sql.Register("heartbeat-ok", testDriver{})
		sql.Register("heartbeat-slow", testDriver{delay: time.Minute})
		sql.Register("heartbeat-down", testDriver{err: errors.New("connection refused")})
	})
	db, err := sql.Open(name, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mapCache is an in-process cache; broken makes every call fail, lossy
// drops what is set.
type mapCache struct {
	mu     sync.Mutex
	m      map[string][]byte
	broken bool
	lossy  bool
}

func (c *mapCache) Set(_ context.Context, key string, value []byte, _ time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken {
		return errors.New("cache down")
	}
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	if !c.lossy {
		c.m[key] = value
	}
	return nil
}

func (c *mapCache) Get(_ context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken {
		return nil, errors.New("cache down")
	}
	return c.m[key], nil
}

func TestBuiltInChecks(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		check   func(t *testing.T) Check
		wantErr string // "" for a pass; else part of the error
	}{
		{"sql ping", func(t *testing.T) Check { return SQL("db", openTestDB(t, "heartbeat-ok"), "", 0) }, ""},
		{"sql query", func(t *testing.T) Check { return SQL("db", openTestDB(t, "heartbeat-ok"), "SELECT 1", 0) }, ""},
		{"sql down", func(t *testing.T) Check { return SQL("db", openTestDB(t, "heartbeat-down"), "", 0) }, "ping: connection refused"},
		{"sql query down", func(t *testing.T) Check { return SQL("db", openTestDB(t, "heartbeat-down"), "SELECT 1", 0) }, "query: connection refused"},
		{"sql slow", func(t *testing.T) Check { return SQL("db", openTestDB(t, "heartbeat-slow"), "", 50*time.Millisecond) }, "context deadline exceeded"},
		{"cache round trip", func(*testing.T) Check { return CacheRoundTrip("cache", &mapCache{}, 0) }, ""},
		{"cache down", func(*testing.T) Check { return CacheRoundTrip("cache", &mapCache{broken: true}, 0) }, "set: cache down"},
		{"cache loses writes", func(*testing.T) Check { return CacheRoundTrip("cache", &mapCache{lossy: true}, 0) }, "get: read back a different value"},
		{"disk", func(*testing.T) Check { return Disk("disk", dir, 0) }, ""},
		{"disk missing", func(*testing.T) Check { return Disk("disk", filepath.Join(dir, "absent"), 0) }, "create:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.check(t)
			var got error
			h := Handler(c)
			h.OnFailure = func(_ string, err error) { got = err }
			rec, body := get(t, h, "")
			if tt.wantErr == "" {
				if rec.Code != 200 || got != nil {
					t.Fatalf("status %d, error %v; want 200", rec.Code, got)
				}
				return
			}
			if rec.Code != 503 || got == nil || !strings.Contains(got.Error(), tt.wantErr) {
				t.Fatalf("status %d, error %v; want 503 and %q", rec.Code, got, tt.wantErr)
			}
			if body.Failed[0] != c.Name {
				t.Fatalf("failed %v; want %q", body.Failed, c.Name)
			}
		})
	}
	// The disk check leaves nothing behind.
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Fatalf("left in %s: %v (%v)", dir, entries, err)
	}
}
