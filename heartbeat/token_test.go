package heartbeat

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The load headers: the queue time's, the window's and the job report's.
var loadHeaders = []string{QueueTimeHeader, QueueP95Header, QueueCountHeader, QueueWindowHeader, UtilizationHeader,
	JobLatencyHeader, JobDepthHeader, JobBusyHeader}

// Only a probe with the right token gets the load headers and runs the job
// report; any other gets the same status and body from the other checks.
func TestToken(t *testing.T) {
	tests := []struct {
		name     string
		env      string // the app's AUTOSCALEBOT_HEARTBEAT_TOKEN
		field    string // Heartbeat.Token
		auth     string // the probe's Authorization
		wantLoad bool
	}{
		{"the right token", "s3cret-1", "", "Bearer s3cret-1", true},
		{"the scheme in any case", "s3cret-1", "", "bearer s3cret-1", true},
		{"spaces around the token are ignored", " s3cret-1\n", "", "Bearer  s3cret-1 ", true},
		{"no Authorization", "s3cret-1", "", "", false},
		{"a wrong token", "s3cret-1", "", "Bearer s3cret-2", false},
		{"a prefix of the token", "s3cret-1", "", "Bearer s3cret", false},
		{"the token and more", "s3cret-1", "", "Bearer s3cret-12", false},
		{"another scheme", "s3cret-1", "", "Basic s3cret-1", false},
		{"the bare token", "s3cret-1", "", "s3cret-1", false},
		{"an empty bearer", "s3cret-1", "", "Bearer ", false},
		{"no token configured: withheld from everyone", "", "", "Bearer ", false},
		{"no token configured, a probe sending one", "", "", "Bearer s3cret-1", false},
		{"the field overrides the environment", "s3cret-1", "other-2", "Bearer other-2", true},
		{"the environment's token when the field is set", "s3cret-1", "other-2", "Bearer s3cret-1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(TokenEnv, tt.env)
			var reports atomic.Int32
			hb := Handler(Func("db", 0, pass), Jobs("jobs", 0, func(context.Context) ([]Queue, error) {
				reports.Add(1)
				return []Queue{{Name: "default", Latency: time.Second, Depth: 2, Busy: 1}}, nil
			}))
			hb.Token = tt.field
			w := NewWindow(0)
			app := w.Middleware(hb)
			rec, body := getAs(t, app, strconv.FormatInt(time.Now().Add(-20*time.Millisecond).UnixMilli(), 10), tt.auth)
			for _, h := range loadHeaders {
				if got := rec.Header().Get(h); (got != "") != tt.wantLoad {
					t.Errorf("%s: %q; want it only with the right token (%v)", h, got, tt.wantLoad)
				}
			}
			wantChecks := []string{"db"}
			if tt.wantLoad {
				wantChecks = []string{"db", "jobs"}
			}
			var got []string
			for _, c := range body.Checks {
				got = append(got, c.Name)
			}
			if rec.Code != 200 || body.Status != "ok" || !slices.Equal(got, wantChecks) {
				t.Errorf("status %d, body %+v; want 200 ok with checks %v", rec.Code, body, wantChecks)
			}
			if n, want := reports.Load(), map[bool]int32{true: 1, false: 0}[tt.wantLoad]; n != want {
				t.Errorf("the job report ran %d times; want %d (never without the token)", n, want)
			}
			if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("Cache-Control %q", cc)
			}
		})
	}
}

// Without the token a failing job report is not run, so it cannot fail the
// answer: an anonymous probe sees the health of the other checks only.
func TestTokenFailingReportNotRun(t *testing.T) {
	hb := Handler(Jobs("jobs", 0, func(context.Context) ([]Queue, error) { panic("must not run") }))
	if rec, _ := getAs(t, hb, "", ""); rec.Code != http.StatusOK {
		t.Fatalf("anonymous probe: status %d; want 200", rec.Code)
	}
	if rec, body := get(t, hb, ""); rec.Code != http.StatusServiceUnavailable || !slices.Equal(body.Failed, []string{"jobs"}) {
		t.Fatalf("probe with the token: status %d, %+v; want 503 naming jobs", rec.Code, body)
	}
}

// A guess's time must not tell how much of the token it got right: the
// comparison is crypto/subtle's, on fixed-length sums, and nothing else in
// the package compares the token. (Timing it here would be a flaky test of
// the machine, so the code is read instead.)
func TestTokenComparedInConstantTime(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	var constantTime bool
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		mentionsToken := func(e ast.Expr) bool {
			found := false
			ast.Inspect(e, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "ConstantTimeCompare" {
						return false // its result, 1 or 0, may be compared
					}
				}
				if id, ok := n.(*ast.Ident); ok && (id.Name == "Token" || id.Name == "tokenSum" || id.Name == "cred" || id.Name == "sum") {
					found = true
				}
				return !found
			})
			return found
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Name.Name == "authorized" {
					ast.Inspect(n.Body, func(m ast.Node) bool {
						if sel, ok := m.(*ast.SelectorExpr); ok && sel.Sel.Name == "ConstantTimeCompare" {
							if id, ok := sel.X.(*ast.Ident); ok && id.Name == "subtle" {
								constantTime = true
							}
						}
						return true
					})
				}
			case *ast.BinaryExpr:
				if (n.Op == token.EQL || n.Op == token.NEQ) && (mentionsToken(n.X) || mentionsToken(n.Y)) {
					t.Errorf("%s: the token compared with %s", fset.Position(n.Pos()), n.Op)
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && slices.Contains([]string{"Equal", "EqualFold", "Compare", "HasPrefix"}, sel.Sel.Name) &&
					slices.ContainsFunc(n.Args, mentionsToken) {
					t.Errorf("%s: the token compared with %s", fset.Position(n.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
	if !constantTime {
		t.Error("authorized does not call subtle.ConstantTimeCompare")
	}
}
