package lambdafn_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/autoscalebot/autoscalebot/internal/herokusim"
	"github.com/autoscalebot/autoscalebot/internal/herokusim/herokusimtest"
	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile/settingsfiletest"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

// Fleet benchmark shape: 500 apps with a web and a worker formation each,
// heartbeats that answer in 200 ms, and five concurrent invocations from
// the tick queue: the number Lambda's SQS event source mapping starts an
// idle queue with (it adds more only while messages wait).
const (
	benchApps       = 500
	benchLatency    = 200 * time.Millisecond
	benchInvocators = 5
)

// BenchmarkFleet1000 ticks a fleet of 1,000 formations through the real
// fan-out path: the scheduled invocation sends every formation to the tick
// queue (moto's SQS) in batches, and five "execution environments" (each
// its own warm Handler, as Lambda keeps one per concurrent invocation)
// receive up to ten messages at a time, tick them and delete them, as the
// event source mapping does. It reports the time from the scheduled
// invocation's start until every formation has ticked (it must stay within
// the 60-second interval), the invocations used and the process's peak heap
// (every environment, the fake Platform API and the heartbeat server
// together: an upper bound of one invocation's).
// fleetBench is a fleet of apps × (web, worker) formations against moto,
// the fake Platform API and one heartbeat answering in benchLatency.
type fleetBench struct {
	ctx      context.Context
	fleet    []settingsfile.Formation
	heroku   *herokusim.Server
	rec      *callRecorder
	logBytes *safeBuilder
	sq       *sqs.Client
	queueURL *string
	// newHandler is a new execution environment's handler.
	newHandler func() *lambdafn.Handler
}

func newFleetBench(b *testing.B, apps int, top string) *fleetBench {
	b.Helper()
	tooltest.Require(b, tooltest.Moto)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	b.Cleanup(cancel)
	cfg := awstest.SharedMoto(b).Config(b)
	// moto is one Python process on a loopback port: hundreds of fresh
	// connections at once overflow its listen queue (connection resets that
	// DynamoDB's fleet of hosts never gives). A pool of kept-alive
	// connections lets it serve the burst.
	pool := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 32, MaxIdleConnsPerHost: 32, IdleConnTimeout: time.Minute}}
	fb := &fleetBench{ctx: ctx, rec: newCallRecorder(pool), logBytes: &safeBuilder{}}
	const key = "HRKU-fleet-bench"
	fb.heroku = herokusimtest.New(b, herokusim.WithToken(key))
	table := awstest.UniqueName(b, "fleet")
	awstest.CreateTable(ctx, b, dynamodb.NewFromConfig(cfg), table)
	param := "/autoscalebot/" + awstest.UniqueName(b, "key")
	if _, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(param),
		Value: aws.String(key), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		b.Fatal(err)
	}
	fb.sq = sqs.NewFromConfig(cfg)
	q, err := fb.sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.UniqueName(b, "ticks"))})
	if err != nil {
		b.Fatal(err)
	}
	fb.queueURL = q.QueueUrl
	beat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(benchLatency):
			_, _ = io.WriteString(w, "ok")
		case <-r.Context().Done():
		}
	}))
	b.Cleanup(beat.Close)

	var file strings.Builder
	file.WriteString(top + "MAX_RESPONSE_TIME_IN_MS: 1000\nMIN_RESPONSE_TIME_IN_MS: 100\nFORMATIONS:\n")
	for i := range apps {
		app := fmt.Sprintf("fleet-%03d", i)
		for _, typ := range []string{"web", "worker"} {
			fb.heroku.SetFormation(app, typ, 1, "")
			fmt.Fprintf(&file, "  - {HEROKU_APP_NAME: %s, HEROKU_PROCESS_TYPE: %s, HEARTBEAT_URL: %q}\n", app, typ, beat.URL+"/"+typ)
		}
	}
	env := getenv(map[string]string{
		settings.EnvAPIKeyParameter: param,
		settings.EnvAPIURL:          fb.heroku.URL,
		settings.EnvTableName:       table,
		settings.EnvTickQueueURL:    aws.ToString(q.QueueUrl),
		settings.EnvSettingsFile:    "autoscalebot.yaml",
	})
	fb.fleet, err = settingsfile.LoadLambda(env, settingsfiletest.Reader(b, file.String()))
	if err != nil {
		b.Fatal(err)
	}
	// What CloudWatch Logs would ingest: every log and metrics line.
	log := slog.New(slog.NewJSONHandler(fb.logBytes, nil))
	recorded := awstest.SharedMoto(b).Config(b)
	recorded.HTTPClient = fb.rec
	fb.newHandler = func() *lambdafn.Handler {
		return lambdafn.New(lambdafn.Config{Formations: fb.fleet, Fleet: true, FunctionName: "bench",
			AWS: recorded, Log: log, Metrics: fb.logBytes})
	}
	return fb
}

// BenchmarkFleet1000 ticks a fleet of 1,000 formations through the real
// fan-out path: the scheduled invocation sends every formation to the tick
// queue (moto's SQS) in batches, and five "execution environments" (each
// its own warm Handler, as Lambda keeps one per concurrent invocation)
// receive up to ten messages at a time, tick them and delete them, as the
// event source mapping does. It reports the time from the scheduled
// invocation's start until every formation has ticked (it must stay within
// the 60-second interval), the invocations used, the slowest invocation and
// the process's peak heap (every environment, the fake Platform API and the
// heartbeat server together: an upper bound of one invocation's).
func BenchmarkFleet1000(b *testing.B) {
	fb := newFleetBench(b, benchApps, "")
	ctx, fleet, heroku, rec, logBytes, sq := fb.ctx, fb.fleet, fb.heroku, fb.rec, fb.logBytes, fb.sq
	newHandler := fb.newHandler
	scheduler := newHandler()
	environments := make([]*lambdafn.Handler, benchInvocators)
	for i := range environments {
		environments[i] = newHandler()
	}

	peak := watchHeap(ctx)
	b.ResetTimer()
	var took time.Duration
	var invocations atomic.Int64
	var slowest maxDuration
	for n := range b.N {
		start := time.Now()
		res, err := scheduler.Handle(ctx, events.EventBridgeEvent{ID: fmt.Sprintf("bench-%d", n), Time: start})
		invocations.Add(1)
		if err != nil || res.FannedOut != len(fleet) {
			b.Fatalf("scheduled invocation: fanned out %d of %d: %v", res.FannedOut, len(fleet), err)
		}
		var ticked atomic.Int64
		var wg sync.WaitGroup
		for _, h := range environments {
			wg.Go(func() {
				for ticked.Load() < int64(len(fleet)) && ctx.Err() == nil {
					out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: fb.queueURL,
						MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
					if err != nil || len(out.Messages) == 0 {
						continue
					}
					ev := events.SQSEvent{}
					formations := 0
					for _, m := range out.Messages {
						ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId),
							Body: aws.ToString(m.Body), EventSource: "aws:sqs"})
						formations += strings.Count(aws.ToString(m.Body), `"app":`)
					}
					began := time.Now()
					resp, err := h.HandleSQS(ctx, ev)
					invocations.Add(1)
					slowest.observe(time.Since(began))
					if err != nil || len(resp.BatchItemFailures) > 0 {
						b.Errorf("invocation failed: %v, %d failed messages", err, len(resp.BatchItemFailures))
						for line := range strings.Lines(logBytes.String()) {
							if strings.Contains(line, `"level":"ERROR"`) {
								b.Log(line)
							}
						}
					}
					for _, m := range out.Messages {
						_, _ = sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: fb.queueURL, ReceiptHandle: m.ReceiptHandle})
					}
					ticked.Add(int64(formations))
				}
			})
		}
		wg.Wait()
		took += time.Since(start)
		if got := ticked.Load(); got != int64(len(fleet)) {
			b.Fatalf("%d of %d formations ticked", got, len(fleet))
		}
	}
	b.StopTimer()
	secs := took.Seconds() / float64(b.N)
	if secs > 60 {
		b.Errorf("the fleet took %.1f s to tick, more than one 60-second interval", secs)
	}
	b.ReportMetric(secs, "s/fleet")
	b.ReportMetric(float64(invocations.Load())/float64(b.N), "invocations/fleet")
	b.ReportMetric(slowest.get().Seconds(), "s/slowest-invocation")
	b.ReportMetric(float64(heroku.Count(http.MethodGet))/float64(b.N), "heroku-reads/fleet")
	b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MiB")
	// Per formation tick, the figures a fleet's cost (docs/deploy.md) is computed from.
	ticks := float64(b.N * len(fleet))
	b.ReportMetric(float64(len(logBytes.String()))/ticks, "log-B/tick")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, action := range []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem"} {
		name := strings.TrimPrefix(action, "dynamodb:")
		b.ReportMetric(float64(rec.calls[action])/ticks, name+"/tick")
		if rec.calls[action] > 0 {
			b.ReportMetric(float64(rec.bytes[action])/float64(rec.calls[action]), name+"-B/call")
		}
	}
	b.ReportMetric(float64(rec.calls["sqs:SendMessage"])/float64(b.N), "SendMessageBatch/fleet")
}

// BenchmarkFleetInline ticks a fleet of FAN_OUT_ABOVE formations (the
// default, 32) inside the scheduled invocation, as a fleet of that size
// runs, and one of 100 (the most one queue invocation ticks) the same way:
// the invocation's time, and the process's CPU time per formation (our own
// work, the fake Platform API's and the heartbeat server's: an upper bound).
func BenchmarkFleetInline(b *testing.B) {
	for _, n := range []int{32, 100} {
		b.Run(fmt.Sprintf("formations=%d", n), func(b *testing.B) {
			fb := newFleetBench(b, n/2, fmt.Sprintf("FAN_OUT_ABOVE: %d\n", n))
			h := fb.newHandler()
			h.Prepare(fb.ctx) // a warm environment: the key read, the clients built
			cpu0 := processCPU(b)
			b.ResetTimer()
			for i := range b.N {
				res, err := h.Handle(fb.ctx, events.EventBridgeEvent{ID: fmt.Sprintf("inline-%d", i), Time: time.Now()})
				if err != nil || len(res.Formations) != n {
					b.Fatalf("ticked %d of %d: %v", len(res.Formations), n, err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/1000/float64(b.N*n), "cpu-ms/formation")
		})
	}
}

// processCPU is the CPU time this process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// maxDuration keeps the longest duration observed, safe for concurrent use.
type maxDuration struct {
	mu sync.Mutex
	d  time.Duration
}

func (m *maxDuration) observe(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.d = max(m.d, d)
}

func (m *maxDuration) get() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.d
}

// watchHeap samples the heap in use every 20 ms until ctx ends and returns
// a function giving the highest sample so far.
func watchHeap(ctx context.Context) func() uint64 {
	var highest atomic.Uint64
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > highest.Load() {
				highest.Store(v)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return highest.Load
}
