package simulation

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Trace is traffic from minute 0: each minute's rate and, when the source
// gave them, each second's; or a job queue's jobs, minute by minute.
type Trace struct {
	// RPM is each minute's requests (with RPS, the sum of its seconds: the
	// minute's mean rate), or with Jobs each minute's jobs enqueued. The
	// ideal is computed from it.
	RPM []float64
	// RPS, when not nil, is each second's requests, 60 a minute: real
	// traffic varies inside a minute, and the model steps with it. Nil:
	// every second runs at its minute's rate.
	RPS []float64
	// Jobs says RPM counts jobs enqueued (whole numbers), which the job
	// model runs, rather than requests.
	Jobs bool
}

// PerMinute is a trace of these minute rates.
func PerMinute(rpm ...float64) Trace { return Trace{RPM: rpm} }

// JobsPerMinute is a job queue's trace: these jobs enqueued each minute.
func JobsPerMinute(jobs ...float64) Trace { return Trace{RPM: jobs, Jobs: true} }

// PerSecond is a trace of these second rates, len(rps) a multiple of 60.
func PerSecond(rps []float64) Trace {
	tr := Trace{RPM: make([]float64, len(rps)/60), RPS: rps}
	for i, r := range rps {
		tr.RPM[i/60] += r
	}
	return tr
}

// Minutes is the trace's length.
func (tr Trace) Minutes() int { return len(tr.RPM) }

// lambda is the arrival rate at second sec, in requests per second.
func (tr Trace) lambda(sec int) float64 {
	if tr.RPS != nil {
		return tr.RPS[sec]
	}
	return tr.RPM[sec/60] / 60
}

// Bounds of a trace: ten years of minutes; a year and a day of seconds.
const (
	maxMinutes = 10 * 366 * 24 * 60
	maxSeconds = 366 * 24 * 3600
)

// maxJobsPerMinute bounds a job trace's minute, far above any one worker
// formation: the job model steps each job.
const maxJobsPerMinute = 1e6

// traceFormat is one of the layouts ReadCSV reads.
type traceFormat struct {
	index, rate string  // the header's two names
	limit       int     // most rows
	span        string  // the limit in words
	most        float64 // the highest rate
	whole       bool    // rates are counts
}

var (
	minuteFormat = traceFormat{index: "minute", rate: "rpm", limit: maxMinutes, span: "ten years", most: maxRPM}
	secondFormat = traceFormat{index: "second", rate: "rps", limit: maxSeconds, span: "a year and a day", most: maxRPM / 60}
	jobsFormat   = traceFormat{index: "minute", rate: "jobs", limit: maxMinutes, span: "ten years", most: maxJobsPerMinute, whole: true}
)

// traceHeaders are the headers ReadCSV knows, for its errors.
const traceHeaders = `"minute,rpm", "second,rps" or "minute,jobs"`

// ReadCSV reads a trace with the header "minute,rpm" and one row per
// minute, "second,rps" and one row per second, or "minute,jobs" (a job
// queue's: jobs enqueued, a whole number a minute) and one row per minute,
// in order from 0; a spreadsheet's quoting is fine. name is used in
// errors, which give the line.
func ReadCSV(r io.Reader, name string) (Trace, error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
		br.Discard(3) // a spreadsheet's byte-order mark, before any quote
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // counted here, to name the line's fields
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	var (
		format *traceFormat
		rates  []float64
	)
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if pe, ok := errors.AsType[*csv.ParseError](err); ok {
			return Trace{}, fmt.Errorf("%s line %d: %w", name, pe.Line, pe.Err)
		}
		if err != nil {
			return Trace{}, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		fields = trimFields(fields)
		at := func(format string, args ...any) error {
			return fmt.Errorf("%s line %d: %s", name, line, fmt.Sprintf(format, args...))
		}
		if format == nil {
			if format = headerFormat(fields); format == nil {
				return Trace{}, at("the header must be %s, got %q", traceHeaders, strings.Join(fields, ","))
			}
			continue
		}
		rate, err := format.row(fields, len(rates))
		if err != nil {
			return Trace{}, at("%v", err)
		}
		rates = append(rates, rate)
	}
	switch {
	case format == nil:
		return Trace{}, fmt.Errorf("%s: empty; want the header %s and one row per minute (second)", name, traceHeaders)
	case len(rates) == 0:
		return Trace{}, errors.New(name + ": no rows after the header")
	case format == &secondFormat && len(rates)%60 != 0:
		return Trace{}, fmt.Errorf("%s: %d seconds end inside minute %d: give whole minutes (a multiple of 60 rows)",
			name, len(rates), len(rates)/60)
	case format == &secondFormat:
		return PerSecond(rates), nil
	case format == &jobsFormat:
		return JobsPerMinute(rates...), nil
	}
	return PerMinute(rates...), nil
}

// trimFields drops spaces, and empty fields at the end (a spreadsheet's
// unused columns).
func trimFields(fields []string) []string {
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	for len(fields) > 0 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	return fields
}

func headerFormat(fields []string) *traceFormat {
	for _, f := range []*traceFormat{&minuteFormat, &secondFormat, &jobsFormat} {
		if len(fields) == 2 && strings.EqualFold(fields[0], f.index) && strings.EqualFold(fields[1], f.rate) {
			return f
		}
	}
	return nil
}

// row reads one row, which must be number want.
func (f *traceFormat) row(fields []string, want int) (float64, error) {
	if len(fields) != 2 {
		return 0, fmt.Errorf("want two fields, %s and %s, got %q", f.index, f.rate, strings.Join(fields, ","))
	}
	index, err := strconv.Atoi(fields[0])
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a whole number", f.index, fields[0])
	}
	switch {
	case index > want:
		return 0, fmt.Errorf("%s %d is missing (the next row is %s %d)", f.index, want, f.index, index)
	case index < want:
		return 0, fmt.Errorf("%s %d is out of order or repeated (%s %d expected)", f.index, index, f.index, want)
	}
	rate, err := strconv.ParseFloat(fields[1], 64)
	if err != nil || math.IsNaN(rate) || math.IsInf(rate, 0) {
		return 0, fmt.Errorf("%s %q is not a number (no thousands separators)", f.rate, fields[1])
	}
	if rate < 0 || rate > f.most {
		return 0, fmt.Errorf("%s %v must be 0 to %g", f.rate, rate, f.most)
	}
	if f.whole && rate != math.Trunc(rate) {
		return 0, fmt.Errorf("%s %v is not a whole number", f.rate, rate)
	}
	if want >= f.limit {
		return 0, fmt.Errorf("more than %d rows (%s)", f.limit, f.span)
	}
	return rate, nil
}

// WriteCSV writes tr in the format ReadCSV reads: per second when it has
// seconds, and jobs for a job queue's.
func (tr Trace) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	header, rates := "minute,rpm\n", tr.RPM
	switch {
	case tr.RPS != nil:
		header, rates = "second,rps\n", tr.RPS
	case tr.Jobs:
		header = "minute,jobs\n"
	}
	bw.WriteString(header)
	for i, r := range rates {
		fmt.Fprintf(bw, "%d,%s\n", i, strconv.FormatFloat(r, 'f', -1, 64))
	}
	return bw.Flush()
}
