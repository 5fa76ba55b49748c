package simulate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Trace is traffic: requests per minute, one entry per minute from minute 0.
type Trace []float64

// maxMinutes bounds a trace: ten years of minutes.
const maxMinutes = 10 * 366 * 24 * 60

// ReadCSV reads a trace with the header "minute,rpm" and one row per
// minute, in order from 0. name is used in errors, which give the line.
func ReadCSV(r io.Reader, name string) (Trace, error) {
	sc := bufio.NewScanner(r)
	var tr Trace
	line := 0
	header := false
	for sc.Scan() {
		line++
		text := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if text == "" {
			continue
		}
		at := func(format string, args ...any) error {
			return fmt.Errorf("%s line %d: %s", name, line, fmt.Sprintf(format, args...))
		}
		fields := strings.Split(text, ",")
		if !header {
			if len(fields) != 2 || strings.TrimSpace(fields[0]) != "minute" || strings.TrimSpace(fields[1]) != "rpm" {
				return nil, at("the header must be \"minute,rpm\", got %q", text)
			}
			header = true
			continue
		}
		if len(fields) != 2 {
			return nil, at("want two fields, minute and rpm, got %q", text)
		}
		minute, err := strconv.Atoi(strings.TrimSpace(fields[0]))
		if err != nil {
			return nil, at("minute %q is not a whole number", strings.TrimSpace(fields[0]))
		}
		switch want := len(tr); {
		case minute > want:
			return nil, at("minute %d is missing (the next row is minute %d)", want, minute)
		case minute < want:
			return nil, at("minute %d is out of order or repeated (minute %d expected)", minute, want)
		}
		rpm, err := strconv.ParseFloat(strings.TrimSpace(fields[1]), 64)
		if err != nil || math.IsNaN(rpm) || math.IsInf(rpm, 0) {
			return nil, at("rpm %q is not a number", strings.TrimSpace(fields[1]))
		}
		if rpm < 0 || rpm > maxRPM {
			return nil, at("rpm %v must be 0 to %g", rpm, float64(maxRPM))
		}
		if len(tr) >= maxMinutes {
			return nil, at("more than %d minutes (ten years)", maxMinutes)
		}
		tr = append(tr, rpm)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !header {
		return nil, fmt.Errorf("%s: empty; want the header \"minute,rpm\" and one row per minute", name)
	}
	if len(tr) == 0 {
		return nil, errors.New(name + ": no rows after the header")
	}
	return tr, nil
}

// WriteCSV writes tr in the format ReadCSV reads.
func (tr Trace) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("minute,rpm\n")
	for i, rpm := range tr {
		fmt.Fprintf(bw, "%d,%s\n", i, strconv.FormatFloat(rpm, 'f', -1, 64))
	}
	return bw.Flush()
}
