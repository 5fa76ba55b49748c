// Package riverjobs is docs/heartbeat.md's River recipe: River's queues for the
// heartbeat, read from its tables in one query.
package riverjobs

import (
	"context"
	"fmt"
	"time"

	"github.com/autoscalebot/autoscalebot/heartbeat"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Queues reports River's queues for heartbeat.Jobs:
//
//	heartbeat.Jobs("river", time.Second, riverjobs.Queues(dbPool))
//
// latency: the age of the oldest available job (since it was scheduled, or
// inserted); depth: the available jobs; busy: the running ones. It lists
// every queue with such jobs or a client working it (river_queue). Jobs
// scheduled for later or waiting to retry are not ready: not counted.
func Queues(db *pgxpool.Pool) func(ctx context.Context) ([]heartbeat.Queue, error) {
	return func(ctx context.Context) ([]heartbeat.Queue, error) {
		rows, err := db.Query(ctx, queuesSQL)
		if err != nil {
			return nil, fmt.Errorf("river queues: %w", err)
		}
		defer rows.Close()
		var out []heartbeat.Queue
		for rows.Next() {
			var q heartbeat.Queue
			var latencyMS float64
			if err := rows.Scan(&q.Name, &latencyMS, &q.Depth, &q.Busy); err != nil {
				return nil, fmt.Errorf("river queues: %w", err)
			}
			q.Latency = time.Duration(latencyMS * float64(time.Millisecond))
			out = append(out, q)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("river queues: %w", err)
		}
		return out, nil
	}
}

// The database's clock on both sides of the age: no skew with the app's.
const queuesSQL = `
WITH jobs AS (
	SELECT queue,
		min(scheduled_at) FILTER (WHERE state = 'available') AS oldest,
		count(*) FILTER (WHERE state = 'available') AS depth,
		count(*) FILTER (WHERE state = 'running') AS busy
	FROM river_job
	WHERE state IN ('available', 'running')
	GROUP BY queue
)
SELECT coalesce(jobs.queue, river_queue.name),
	coalesce(greatest(extract(epoch FROM now() - jobs.oldest) * 1000, 0), 0)::float8,
	coalesce(jobs.depth, 0)::int,
	coalesce(jobs.busy, 0)::int
FROM jobs FULL JOIN river_queue ON river_queue.name = jobs.queue`
