package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/test/env/lambdatest"
	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

// The benchmarks run the function as TestEndToEnd does, against moto, the
// fake Heroku API and an instant heartbeat on loopback: the times are the
// function's own plus those local stand-ins', not AWS's.

// benchStack is a stack whose heartbeat answers at once.
func benchStack(b *testing.B) (*stack, []string) {
	b.Helper()
	tooltest.SkipShort(b, "runs the bootstrap under the Lambda emulator with moto")
	s := newStack(b, e2eParams)
	s.beat.set(0)
	return s, s.env(b, nil, nil)
}

// BenchmarkColdStart times starting the emulator and a new bootstrap process
// until the first invocation's response (the emulator starts the bootstrap
// lazily, at that invocation, as Lambda does). The first tick of a process
// also reads the API key from SSM.
func BenchmarkColdStart(b *testing.B) {
	s, env := benchStack(b)
	var peak, runs int64
	for b.Loop() {
		e := lambdatest.Start(b, s.bootstrap, env)
		lambdatest.Summary(b, e.Invoke(b, lambdatest.ScheduledEvent(b)))
		b.StopTimer()
		if p, err := e.BootstrapPeakMemory(); err == nil {
			peak, runs = peak+p, runs+1
		}
		e.Stop()
		b.StartTimer()
	}
	if runs > 0 {
		b.ReportMetric(float64(peak/runs)/(1<<20), "peak-RSS-MiB")
	}
}

// BenchmarkColdStartPenalty starts the bootstrap and a minimal aws-lambda-go
// function (testdata/hellofn, built the same way) under the emulator in
// turn, in the same run, and reports each one's cold-start penalty: the
// median first response minus the median second (warm) response of a fresh
// process, so what the emulator and the stand-ins cost cancels out; and
// the same on the bootstrap processes' own CPU time. The
// bootstrap's first tick also reads the API key from SSM and opens its
// connections. It fails past the budget: a CPU penalty over
// maxPenaltyRatio times the minimal function's.
func BenchmarkColdStartPenalty(b *testing.B) {
	s, env := benchStack(b)
	hello := filepath.Join(filepath.Dir(s.bootstrap), "hellofn")
	lambdatest.BuildPackage(b, "./test/e2e/testdata/hellofn", hello)
	type times struct{ cold, warm, coldCPU, warmCPU []time.Duration }
	var boot, min times
	cpu := func(e *lambdatest.Emulator) time.Duration {
		d, err := e.BootstrapCPU()
		if err != nil && runtime.GOOS == "linux" {
			b.Fatal(err)
		}
		return d
	}
	measure := func(bin string, into *times, check func(raw []byte)) {
		e := lambdatest.Start(b, bin, env)
		start := time.Now()
		check(e.Invoke(b, lambdatest.ScheduledEvent(b)))
		cold, coldCPU := time.Since(start), cpu(e)
		start = time.Now()
		check(e.Invoke(b, lambdatest.ScheduledEvent(b)))
		warm, warmCPU := time.Since(start), cpu(e)-coldCPU
		into.cold, into.warm = append(into.cold, cold), append(into.warm, warm)
		into.coldCPU, into.warmCPU = append(into.coldCPU, coldCPU), append(into.warmCPU, warmCPU)
		e.Stop()
	}
	for b.Loop() {
		measure(s.bootstrap, &boot, func(raw []byte) { lambdatest.Summary(b, raw) })
		measure(hello, &min, func(raw []byte) {
			if string(raw) != `"hello"` {
				b.Fatalf("hellofn answered %s", raw)
			}
		})
	}
	penalty := func(t times) float64 {
		return float64(median(t.cold)-median(t.warm)) / float64(time.Millisecond)
	}
	b.ReportMetric(penalty(boot), "bootstrap-penalty-ms")
	b.ReportMetric(penalty(min), "hello-penalty-ms")
	b.ReportMetric(float64(median(boot.warm))/float64(time.Millisecond), "bootstrap-warm-ms")
	if p := penalty(min); p > 0 {
		b.ReportMetric(penalty(boot)/p, "penalty-ratio")
	}
	// The same on the processes' own CPU time, which a loaded machine does
	// not inflate: what the cold start costs the function itself.
	cpuPenalty := func(t times) float64 {
		return float64(median(t.coldCPU)-median(t.warmCPU)) / float64(time.Millisecond)
	}
	b.ReportMetric(cpuPenalty(boot), "bootstrap-cpu-penalty-ms")
	b.ReportMetric(cpuPenalty(min), "hello-cpu-penalty-ms")
	if p := cpuPenalty(min); p > 0 {
		ratio := cpuPenalty(boot) / p
		b.ReportMetric(ratio, "cpu-penalty-ratio")
		if ratio > maxPenaltyRatio {
			b.Errorf("cold-start CPU penalty %.1f ms is %.2f× the minimal function's %.1f ms; the budget is %.1f×",
				cpuPenalty(boot), ratio, p, maxPenaltyRatio)
		}
	}
}

// The cold-start budget: a guard rail, not a goal. A function that runs
// every minute is cold a few times a day; what the SDK's clients cost there
// buys every region, partition, FIPS endpoint and credential source. The
// ratio is above the 2.5 first planned: the benchmark table in
// CONTRIBUTING.md says why.
const (
	maxPenaltyRatio = 6.0
	maxZipBytes     = 6_000_000
)

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkWarmInvoke times one scheduled invocation of a running bootstrap,
// and reports the bootstrap's peak resident memory after all of them
// (VmHWM, Linux only).
func BenchmarkWarmInvoke(b *testing.B) {
	s, env := benchStack(b)
	e := lambdatest.Start(b, s.bootstrap, env)
	lambdatest.Summary(b, e.Invoke(b, lambdatest.ScheduledEvent(b))) // the cold start
	for b.Loop() {
		lambdatest.Summary(b, e.Invoke(b, lambdatest.ScheduledEvent(b)))
	}
	if p, err := e.BootstrapPeakMemory(); err == nil {
		b.ReportMetric(float64(p)/(1<<20), "peak-RSS-MiB")
	} else if runtime.GOOS == "linux" {
		b.Error(err)
	}
}

// BenchmarkBootstrapSize reports the size of the bootstrap as deployed: built
// by the Makefile's build-AutoscalerFunction target (linux/arm64, stripped)
// and zipped as SAM uploads it; and of the host test build (not stripped).
// The time per operation is the time to zip the arm64 bootstrap. It fails
// past the budget, maxZipBytes zipped.
func BenchmarkBootstrapSize(b *testing.B) {
	tooltest.SkipShort(b, "builds the bootstrap")
	root, err := templatetest.RepoRoot()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "build-AutoscalerFunction", "ARTIFACTS_DIR="+dir)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("make build-AutoscalerFunction: %v\n%s", err, out)
	}
	arm64, err := os.ReadFile(filepath.Join(dir, "bootstrap"))
	if err != nil {
		b.Fatal(err)
	}
	host, err := os.ReadFile(lambdatest.BuildBootstrap(b))
	if err != nil {
		b.Fatal(err)
	}

	var zipped int
	for b.Loop() {
		zipped = zipSize(b, arm64)
	}
	b.ReportMetric(float64(len(arm64))/(1<<20), "arm64-MiB")
	b.ReportMetric(float64(zipped)/(1<<20), "arm64-zip-MiB")
	if zipped > maxZipBytes {
		b.Errorf("the zipped bootstrap is %d bytes; the budget is %d", zipped, maxZipBytes)
	}
	b.ReportMetric(float64(len(host))/(1<<20), "host-MiB")
	b.ReportMetric(float64(zipSize(b, host))/(1<<20), "host-zip-MiB")
}

// zipSize returns the size of a zip archive holding bin as an executable
// named bootstrap, deflated as SAM's packaging does.
func zipSize(b *testing.B, bin []byte) int {
	b.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = io.Copy(w, bytes.NewReader(bin))
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		b.Fatalf("zip: %v", err)
	}
	return buf.Len()
}
