// Command heartbeat is a small web app with a heartbeat URL built on the
// heartbeat package: /autoscalebot/heartbeat/ checks the disk, a cache and
// (when DATABASE_URL names a driver you have linked in) the database, and
// every request's router queue time and time in flight are measured, so
// autoscalebot can scale it with AUTOSCALE_SIGNAL=queue_time or utilization.
//
//	go run ./examples/heartbeat          # listens on $PORT, or :8080
//	curl -i -H "X-Request-Start: $(date +%s%3N)" localhost:8080/autoscalebot/heartbeat/
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/autoscalebot/autoscalebot/heartbeat"
)

func main() {
	addr := ":" + os.Getenv("PORT")
	if addr == ":" {
		addr = ":8080"
	}
	srv := &http.Server{Addr: addr, Handler: newApp(), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("listening on %s", addr)
	log.Fatal(srv.ListenAndServe())
}

// newApp is the whole app: its pages and its heartbeat, behind the
// middleware that measures queue time and utilization.
func newApp() http.Handler {
	hb := heartbeat.Handler(
		heartbeat.Disk("disk", "", time.Second),
		heartbeat.CacheRoundTrip("cache", &memoryCache{}, 500*time.Millisecond),
		// A custom check: whatever else the app cannot serve without.
		heartbeat.Func("config", 100*time.Millisecond, func(context.Context) error {
			if os.Getenv("EXAMPLE_BROKEN") != "" {
				return errors.New("EXAMPLE_BROKEN is set")
			}
			return nil
		}),
		// With a database: heartbeat.SQL("db", db, "SELECT 1", time.Second).
	)
	hb.OnFailure = func(name string, err error) { log.Printf("heartbeat check %s failed: %v", name, err) }

	mux := http.NewServeMux()
	mux.Handle("/autoscalebot/heartbeat/", hb)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello")
	})
	return heartbeat.Middleware(mux)
}

// memoryCache stands in for Redis or Memcached: a real app adapts its
// client's Set and Get to heartbeat.Cache in a few lines.
type memoryCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (c *memoryCache) Set(_ context.Context, key string, value []byte, _ time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	c.m[key] = value
	return nil
}

func (c *memoryCache) Get(_ context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	if !ok {
		return nil, errors.New("not found")
	}
	delete(c.m, key) // the example keeps no garbage
	return v, nil
}
