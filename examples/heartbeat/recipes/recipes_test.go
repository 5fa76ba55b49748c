// Package recipes holds the README's queue-time middleware for Rails
// (Rack), Django (WSGI) and Express, run here so the snippets do not rot.
package recipes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

type request struct {
	Path  string `json:"path"`
	Start string `json:"start"`
}

const heartbeatPath = "/autoscalebot/heartbeat/"

func ms(wait time.Duration) string {
	return strconv.FormatInt(time.Now().Add(-wait).UnixMilli(), 10)
}

// Every recipe, fed the same requests, answers the heartbeat with the same
// headers as the Go package: the probe's own wait, the window's p95 and
// count, and no-store; a malformed stamp is not counted; the router's clock
// ahead counts as 0; t= microseconds are read.
func TestRecipes(t *testing.T) {
	recipes := []struct {
		name, runtime, script, missing string
	}{
		{"express", "node", "testdata/run.js", "node is not installed: the Express recipe is not run"},
		{"wsgi (django)", "python3", "testdata/run.py", "python3 is not installed: the Django (WSGI) recipe is not run"},
		{"rack (rails)", "ruby", "testdata/run.rb", "ruby is not installed: the Rails (Rack) recipe is not run"},
	}
	for _, r := range recipes {
		t.Run(r.name, func(t *testing.T) {
			bin, err := exec.LookPath(r.runtime)
			if err != nil {
				t.Skip(r.missing)
			}
			// The interpreter starts first, so that its start-up is not
			// counted as queue time.
			cmd := exec.Command(bin, r.script)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stdout)
			if !sc.Scan() || sc.Text() != "ready" {
				cmd.Wait()
				t.Fatalf("%s %s did not start: %q\n%s", r.runtime, r.script, sc.Text(), stderr.String())
			}
			var in bytes.Buffer
			enc := json.NewEncoder(&in)
			// 17 requests waited 20 ms, 3 waited 500 ms, one had a
			// malformed stamp and one none; then the probes.
			for i := range 20 {
				wait := 20 * time.Millisecond
				if i%7 == 6 {
					wait = 500 * time.Millisecond
				}
				enc.Encode(request{"/page", ms(wait)})
			}
			enc.Encode(request{"/page", "soon"})
			enc.Encode(request{"/page", ""})
			enc.Encode(request{heartbeatPath, ms(40 * time.Millisecond)})
			enc.Encode(request{heartbeatPath, "t=" + strconv.FormatInt(time.Now().Add(-30*time.Millisecond).UnixMicro(), 10)})
			enc.Encode(request{heartbeatPath, ms(-5 * time.Second)})
			enc.Encode(request{heartbeatPath, "garbage"})
			if _, err := stdin.Write(in.Bytes()); err != nil {
				t.Fatal(err)
			}
			stdin.Close()
			var answers []map[string]string
			for sc.Scan() {
				var h map[string]string
				if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
					t.Fatalf("%q: %v", sc.Text(), err)
				}
				answers = append(answers, h)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("%s %s: %v\n%s", r.runtime, r.script, err, stderr.String())
			}
			if len(answers) != 26 {
				t.Fatalf("%d answers; want 26: %v", len(answers), answers)
			}
			for i, h := range answers[:22] {
				if len(h) != 0 {
					t.Errorf("page %d got heartbeat headers %v", i, h)
				}
			}
			num := func(h map[string]string, k string) int {
				n, err := strconv.Atoi(h[k])
				if err != nil {
					t.Errorf("%s = %q: not a number (%v)", k, h[k], h)
				}
				return n
			}
			probes := answers[22:]
			// The probes count themselves: 20 pages with a stamp, then 1, 2, 3, 3.
			for i, want := range []int{21, 22, 23, 23} {
				if got := num(probes[i], "x-queue-time-count"); got != want {
					t.Errorf("probe %d: count %d; want %d", i, got, want)
				}
				if p95 := num(probes[i], "x-queue-time-p95-ms"); p95 < 500 || p95 > 800 {
					t.Errorf("probe %d: p95 %d; want the slow tail, 500 ms and a little", i, p95)
				}
				if probes[i]["cache-control"] != "no-store" || probes[i]["x-queue-time-window-s"] != "30" {
					t.Errorf("probe %d: %v; want no-store and a 30 s window", i, probes[i])
				}
			}
			for i, want := range [][2]int{{40, 400}, {30, 390}, {0, 0}} {
				if got := num(probes[i], "x-queue-time-ms"); got < want[0] || got > want[1] {
					t.Errorf("probe %d: own queue time %d; want %d to %d", i, got, want[0], want[1])
				}
			}
			if v, ok := probes[3]["x-queue-time-ms"]; ok {
				t.Errorf("a malformed stamp gave X-Queue-Time-Ms %q", v)
			}
		})
	}
}

// The README quotes each recipe whole, so what is tested is what is shown.
func TestREADMEQuotesTheRecipes(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"queue_time.rb", "queue_time.py", "queue_time.js"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(readme), string(src)) {
			t.Errorf("README.md does not quote examples/heartbeat/recipes/%s as it is now", f)
		}
	}
}
