package faults

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
)

// simulatedMinutes is how many scheduled invocations the load benchmark runs.
const simulatedMinutes = 10_000

// dailyTraffic is a virtual heartbeat: its latency follows a day of
// traffic (quiet at night, a peak mid-afternoon) divided by the dynos
// running, so the autoscaler scales up and down every simulated day without
// the benchmark sleeping through real latencies.
type dailyTraffic struct {
	r *rig
}

func (d dailyTraffic) Probe(context.Context) probe.Result {
	hour := float64(d.r.now.Hour()) + float64(d.r.now.Minute())/60
	load := 1 + 9*math.Pow(math.Sin(math.Pi*hour/24), 4) // 1 at midnight, 10 at noon
	dynos := max(d.r.heroku.Quantity(app, processType), 1)
	latency := time.Duration(load / float64(dynos) * float64(12*time.Millisecond))
	s := d.r.ticker.Settings
	switch {
	case latency > s.MaxResponseTime:
		return probe.Result{Verdict: probe.Fail, Latency: latency, Status: 200}
	case latency < s.MinResponseTime:
		return probe.Result{Verdict: probe.Pass, Latency: latency, Status: 200}
	}
	return probe.Result{Verdict: probe.OK, Latency: latency, Status: 200}
}

// BenchmarkTenThousandMinutes runs the one-tick code for 10,000 simulated
// minutes (about a week) against moto's DynamoDB and the fake Platform API,
// with a clock the benchmark controls, and reports how big the state item
// and the history get. The state item must stop growing after the first
// simulated day; history grows by one record per minute plus one per scale,
// and is bounded by its TTL in DynamoDB.
// Each policy runs: the proportional one keeps its own memory in the state item.
func BenchmarkTenThousandMinutes(b *testing.B) {
	for _, policy := range settings.Policies() {
		b.Run(string(policy), func(b *testing.B) {
			for range b.N {
				runLoad(b, policy)
			}
		})
	}
}

func runLoad(b *testing.B, policy settings.Policy) {
	b.Helper()
	r := newRig(b)
	r.env[settings.EnvPolicy] = string(policy)
	r.rewire()
	r.ticker.Prober = dailyTraffic{r: r}
	var daySize, maxSize int
	scales := 0
	start := time.Now()
	for minute := 1; minute <= simulatedMinutes; minute++ {
		r.now = r.now.Add(time.Minute)
		sum, err := r.ticker.Tick(context.Background(), "")
		if err != nil {
			b.Fatalf("minute %d: %v", minute, err)
		}
		if sum.Scaled {
			scales++
		}
		if minute%500 == 0 {
			size := r.stateItemSize(b)
			maxSize = max(maxSize, size)
			if minute == 1500 {
				daySize = size
			}
		}
	}
	elapsed := time.Since(start)
	final := r.stateItemSize(b)
	records := r.historyCount(b)
	b.ReportMetric(float64(final), "state-bytes")
	b.ReportMetric(float64(maxSize), "max-state-bytes")
	b.ReportMetric(float64(records), "history-items")
	b.ReportMetric(float64(scales), "scales")
	b.ReportMetric(float64(elapsed.Microseconds())/simulatedMinutes, "µs/tick")
	if maxSize > daySize+512 {
		b.Fatalf("the state item kept growing: %d bytes after a day, %d at most later", daySize, maxSize)
	}
	if records != simulatedMinutes+scales {
		b.Fatalf("history has %d items, want one per minute plus one per scale (%d)", records, simulatedMinutes+scales)
	}
}

// stateItemSize is the DynamoDB item size of the state, counted as DynamoDB
// bills it: attribute names plus values.
func (r *rig) stateItemSize(b *testing.B) int {
	b.Helper()
	out, err := r.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(r.table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: app + "#" + processType},
			"sk": &types.AttributeValueMemberS{Value: "state"},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	return itemSize(out.Item)
}

func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberM:
		return 3 + itemSize(v.Value)
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	}
	return 0
}

func (r *rig) historyCount(b *testing.B) int {
	b.Helper()
	paginator := dynamodb.NewQueryPaginator(r.db, &dynamodb.QueryInput{
		TableName:              aws.String(r.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :rec)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":  &types.AttributeValueMemberS{Value: app + "#" + processType},
			":rec": &types.AttributeValueMemberS{Value: "rec#"},
		},
		Select: types.SelectCount,
	})
	n := 0
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		n += int(page.Count)
	}
	return n
}
