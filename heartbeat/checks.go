package heartbeat

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"
)

// SQL checks a database/sql pool: a ping when query is empty, else the
// query (say "SELECT 1", or one touching a real table), whose first row is
// read and discarded. A ping proves a connection; a query proves the
// database answers.
func SQL(name string, db *sql.DB, query string, timeout time.Duration) Check {
	return Func(name, timeout, func(ctx context.Context) error {
		if query == "" {
			if err := db.PingContext(ctx); err != nil {
				return fmt.Errorf("ping: %w", err)
			}
			return nil
		}
		rows, err := db.QueryContext(ctx, query)
		if err != nil {
			return fmt.Errorf("query: %w", err)
		}
		defer rows.Close()
		rows.Next()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("query: %w", err)
		}
		return nil
	})
}

// Cache is what the cache check needs of a cache client; a few lines adapt
// any client (Redis, Memcached, an in-process map) to it.
type Cache interface {
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Get(ctx context.Context, key string) ([]byte, error)
}

// CacheRoundTrip sets a random value under a key of its own (prefixed
// "heartbeat:"), reads it back and compares: what the original Django view
// did. The entry expires after a minute, so no cleanup is needed.
func CacheRoundTrip(name string, c Cache, timeout time.Duration) Check {
	return Func(name, timeout, func(ctx context.Context) error {
		token, err := randomToken()
		if err != nil {
			return err
		}
		key := "heartbeat:" + token
		if err := c.Set(ctx, key, []byte(token), time.Minute); err != nil {
			return fmt.Errorf("set: %w", err)
		}
		got, err := c.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("get: %w", err)
		}
		if !bytes.Equal(got, []byte(token)) {
			return errors.New("get: read back a different value")
		}
		return nil
	})
}

// Disk writes a small temporary file in dir (os.TempDir() when empty),
// reads it back and deletes it.
func Disk(name, dir string, timeout time.Duration) Check {
	return Func(name, timeout, func(ctx context.Context) error {
		token, err := randomToken()
		if err != nil {
			return err
		}
		f, err := os.CreateTemp(dir, "heartbeat-*")
		if err != nil {
			return fmt.Errorf("create: %w", err)
		}
		path := f.Name()
		defer os.Remove(path)
		_, werr := f.WriteString(token)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("write: %w", werr)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		got, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if string(got) != token {
			return errors.New("read: a different content")
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		return nil
	})
}

func randomToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
