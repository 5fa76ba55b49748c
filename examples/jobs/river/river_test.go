package riverjobs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/examples/jobs/jobstest"
	"github.com/autoscalebot/autoscalebot/heartbeat"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

type blockArgs struct{}

func (blockArgs) Kind() string { return "block" }

// blockWorker runs until its client is stopped.
type blockWorker struct {
	river.WorkerDefaults[blockArgs]
}

func (blockWorker) Work(ctx context.Context, _ *river.Job[blockArgs]) error {
	<-ctx.Done()
	return ctx.Err()
}

type noopArgs struct{}

func (noopArgs) Kind() string { return "noop" }

type noopWorker struct{ river.WorkerDefaults[noopArgs] }

func (noopWorker) Work(context.Context, *river.Job[noopArgs]) error { return nil }

// app is the recipe in a heartbeat, with River and its workers behind it.
type app struct {
	client *river.Client[pgx.Tx]
	url    string
}

func (a *app) Enqueue(t testing.TB, queue, job string, n int) {
	t.Helper()
	args := map[string]river.JobArgs{"block": blockArgs{}, "noop": noopArgs{}}[job]
	for range n {
		if _, err := a.client.Insert(context.Background(), args, &river.InsertOpts{Queue: queue}); err != nil {
			t.Fatalf("insert %s on %s: %v", job, queue, err)
		}
	}
}

func (a *app) Probe(t testing.TB, auth string) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest("GET", a.url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := map[string]string{}
	for k := range resp.Header {
		h[strings.ToLower(k)] = resp.Header.Get(k)
	}
	return resp.StatusCode, h
}

func TestRiverRecipe(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, jobstest.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &blockWorker{})
	river.AddWorker(workers, &noopWorker{})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:  map[string]river.QueueConfig{"busy": {MaxWorkers: 2}, "done": {MaxWorkers: 2}},
		Workers: workers,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		client.StopAndCancel(stop)
	}()

	t.Setenv(heartbeat.TokenEnv, jobstest.Token)
	srv := httptest.NewServer(heartbeat.Handler(heartbeat.Jobs("river", time.Second, Queues(pool))))
	defer srv.Close()
	jobstest.CheckReport(t, &app{client: client, url: srv.URL})
}
