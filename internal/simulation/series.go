package simulation

// Series is a run reduced to buckets of whole minutes, for a chart: bucket
// i covers minutes [i·Minutes, (i+1)·Minutes).
type Series struct {
	Minutes int       // minutes per bucket
	RPM     []float64 // mean traffic
	Ideal   []int     // highest demand
	Dynos   []int     // highest quantity requested
	// LatencyMS is the mean probe latency of the bucket's ticks (a timeout
	// counts as the probe timeout); NaN-free: buckets without a tick repeat
	// the previous value.
	LatencyMS []float64
}

type seriesBuilder struct {
	s      Series
	latSum []float64
	latN   []int
}

// bucketSizes are the bucket lengths a series chooses from, in minutes:
// divisors of a day, then whole days, so that buckets do not beat against
// the daily rhythm of the traffic.
var bucketSizes = []int{1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440}

func newSeriesBuilder(minutes, points int) *seriesBuilder {
	need := max(1, (minutes+points-1)/points)
	per := (need + minutesPerDay - 1) / minutesPerDay * minutesPerDay
	for _, b := range bucketSizes {
		if b >= need {
			per = b
			break
		}
	}
	n := (minutes + per - 1) / per
	return &seriesBuilder{
		s: Series{
			Minutes: per, RPM: make([]float64, n), Ideal: make([]int, n), Dynos: make([]int, n), LatencyMS: make([]float64, n),
		},
		latSum: make([]float64, n),
		latN:   make([]int, n),
	}
}

// tick adds a tick's probe latency and the quantity after it.
func (b *seriesBuilder) tick(minute int, latencyMS float64, requested int) {
	i := minute / b.s.Minutes
	b.latSum[i] += latencyMS
	b.latN[i]++
	b.s.Dynos[i] = max(b.s.Dynos[i], requested)
}

// minute adds a minute's traffic and demand and the quantity at its end.
func (b *seriesBuilder) minute(minute int, rpm float64, demand, requested int) {
	i := minute / b.s.Minutes
	b.s.RPM[i] += rpm
	b.s.Ideal[i] = max(b.s.Ideal[i], demand)
	b.s.Dynos[i] = max(b.s.Dynos[i], requested)
}

func (b *seriesBuilder) build(minutes int) *Series {
	s := b.s
	last := 0.0
	for i := range s.RPM {
		n := min(s.Minutes, minutes-i*s.Minutes)
		s.RPM[i] /= float64(n)
		if b.latN[i] > 0 {
			last = b.latSum[i] / float64(b.latN[i])
		}
		s.LatencyMS[i] = last
	}
	return &s
}
