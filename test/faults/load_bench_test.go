package faults

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// simulatedDays is how many days of scheduled invocations the load
// benchmark runs: the first day sets the state item's size, the second
// shows that it stays there. Each day is 1,440 ticks against moto.
const simulatedDays = 2

const minutesPerDay = 24 * 60

// Traffic that crosses both thresholds of the rig (a fail above 60 ms, a
// pass below 5 ms) every day: the latency is load / dynos × latencyPerLoad,
// and load runs from 1 at midnight to peakLoad at noon. One dyno at night
// answers in 2.5 ms (a pass); the morning takes one dyno over 60 ms at load
// 24 and two at load 48, so it scales 1 → 2 → 3; three dynos at the peak
// answer in 50 ms (in range). The evening takes three dynos under 5 ms at
// load 6 and two at load 4: 3 → 2 → 1. An app that only sat in range would
// never scale down, since only a pass counts towards that.
const (
	latencyPerLoad = 2500 * time.Microsecond
	peakLoad       = 60
)

// Each simulated day must scale at least this often each way, or the
// benchmark measures an idle autoscaler.
const minScalesPerDay = 2

// dailyTraffic is a virtual heartbeat following the day's load, so
// simulated days take no real latency.
type dailyTraffic struct {
	r *rig
}

func (d dailyTraffic) Probe(context.Context) probe.Result {
	hour := float64(d.r.now.Hour()) + float64(d.r.now.Minute())/60
	load := 1 + (peakLoad-1)*math.Pow(math.Sin(math.Pi*hour/24), 4)
	dynos := max(d.r.heroku.Quantity(app, processType), 1)
	latency := time.Duration(load / float64(dynos) * float64(latencyPerLoad))
	s := d.r.ticker.Settings
	switch {
	case latency > s.MaxResponseTime:
		return probe.Result{Verdict: probe.Fail, Latency: latency, Status: 200}
	case latency < s.MinResponseTime:
		return probe.Result{Verdict: probe.Pass, Latency: latency, Status: 200}
	}
	return probe.Result{Verdict: probe.OK, Latency: latency, Status: 200}
}

// BenchmarkDailyTraffic runs the one-tick code once a simulated minute for
// two simulated days of traffic that rises and falls each day, against
// moto's DynamoDB and the fake Platform API, with a clock the benchmark
// controls. It fails unless every day scales up and down at least twice,
// the state item stops growing after the first day, and history holds one
// item per tick plus one per scale (the TTL bounds it in DynamoDB), and the
// state item stays inside one DynamoDB write unit (1 KB).
func BenchmarkDailyTraffic(b *testing.B) {
	for range b.N {
		runLoad(b)
	}
}

func runLoad(b *testing.B) {
	b.Helper()
	r := newRig(b)
	r.ticker.Prober = dailyTraffic{r: r}
	s := r.ticker.Settings
	if s.MaxResponseTime != 60*time.Millisecond || s.MinResponseTime != 5*time.Millisecond {
		b.Fatalf("the traffic is shaped for thresholds of 5–60 ms, the rig has %s–%s", s.MinResponseTime, s.MaxResponseTime)
	}
	r.now = r.now.Truncate(24 * time.Hour) // each simulated day a calendar day, from midnight
	var daySize, maxLaterSize int
	var ups, downs [simulatedDays]int
	start := time.Now()
	for minute := 1; minute <= simulatedDays*minutesPerDay; minute++ {
		r.now = r.now.Add(time.Minute)
		// An id the shape of EventBridge's (a UUID): the state remembers
		// the last twenty, and they count toward its size.
		id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", minute, minute%65536, minute%4096, minute%4096, minute)
		sum, err := r.ticker.Tick(context.Background(), id)
		if err != nil {
			b.Fatalf("minute %d: %v", minute, err)
		}
		day := (minute - 1) / minutesPerDay
		switch {
		case sum.Scaled && sum.Target > sum.Current:
			ups[day]++
		case sum.Scaled && sum.Target < sum.Current:
			downs[day]++
		}
		if minute%60 == 0 {
			size := r.stateItemSize(b)
			if minute <= minutesPerDay {
				daySize = max(daySize, size)
			} else {
				maxLaterSize = max(maxLaterSize, size)
			}
		}
	}
	elapsed := time.Since(start)
	minutes := simulatedDays * minutesPerDay
	scales := 0
	for day := range simulatedDays {
		scales += ups[day] + downs[day]
		if ups[day] < minScalesPerDay || downs[day] < minScalesPerDay {
			b.Fatalf("day %d scaled up %d and down %d times, want at least %d each way every day: the traffic no longer crosses the thresholds",
				day+1, ups[day], downs[day], minScalesPerDay)
		}
	}
	kinds := r.historyKinds(b)
	records := kinds[state.KindDecision] + kinds[state.KindScale]
	b.ReportMetric(float64(scales), "scales")
	b.ReportMetric(float64(daySize), "day1-max-state-bytes")
	b.ReportMetric(float64(maxLaterSize), "later-max-state-bytes")
	b.ReportMetric(float64(records), "history-items")
	b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(minutes), "ms/tick")
	// The cost table counts one write unit per state save: DynamoDB bills
	// a write per started KB of the item.
	if max(daySize, maxLaterSize) > 1024 {
		b.Fatalf("the state item reached %d bytes: past 1 KB every save costs two write units", max(daySize, maxLaterSize))
	}
	if maxLaterSize > daySize {
		b.Fatalf("the state item kept growing: at most %d bytes on the first day, %d later", daySize, maxLaterSize)
	}
	if kinds[state.KindDecision] != minutes || kinds[state.KindScale] != scales {
		b.Fatalf("history has %v, want one decision per tick (%d) and one scale record per scale (%d)", kinds, minutes, scales)
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

// historyKinds counts the formation's history items by kind. It reads the
// items rather than asking for a count: moto's Select COUNT answers came
// back short here (truncated bodies the SDK only warns about).
func (r *rig) historyKinds(b *testing.B) map[string]int {
	b.Helper()
	paginator := dynamodb.NewQueryPaginator(r.db, &dynamodb.QueryInput{
		TableName:              aws.String(r.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :rec)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":  &types.AttributeValueMemberS{Value: app + "#" + processType},
			":rec": &types.AttributeValueMemberS{Value: "rec#"},
		},
		ProjectionExpression: aws.String("kind"),
	})
	kinds := map[string]int{}
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		for _, item := range page.Items {
			kind, _ := item["kind"].(*types.AttributeValueMemberS)
			if kind == nil {
				b.Fatalf("a history item without a kind: %v", item)
			}
			kinds[kind.Value]++
		}
	}
	return kinds
}
