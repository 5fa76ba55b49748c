# autoscalebot. `make run` runs it locally (a demo when no heartbeat URL is set);
# `make test` installs what the tests need and runs them all.

GO        ?= go
TOOLS     := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)

RIE_VERSION         := v0.0.0-20261030222936-bef5c4ba774d
STATICCHECK_VERSION := v0.8.2
LAMBDA_FLAGS        := -tags lambda.norpc -trimpath -ldflags "-s -w"
FUZZTIME            ?= 30s
# A count, not a duration: with a duration Go 1.26's fuzz coordinator can
# fail a target with a bare "context deadline exceeded" as time runs out
# (go.dev/issue/75804, fixed in Go 1.27), which would make `make test` flaky.
FUZZTIME_BRIEF      ?= 40000x

.PHONY: all build command run once test test-tools lint bench fuzz clean build-AutoscalerFunction

all: build

## build: the command-line tool (bin/autoscalebot) and the Lambda bootstrap (bin/bootstrap, linux/arm64)
build: command
	$(MAKE) --no-print-directory build-AutoscalerFunction ARTIFACTS_DIR=$(CURDIR)/bin

command:
	$(GO) build -trimpath -o bin/autoscalebot ./cmd/autoscalebot

# run and once start the built command itself, not `go run`: on Ctrl-C
# `go run` exits 1 whatever the command does, and make reports "Error 1".
# Ctrl-C lets the tick in flight finish and the command exit 0 (make, which
# gets the interrupt too, then ends quietly by it); a second Ctrl-C abandons it.

## run: the autoscaler on this machine (reads AUTOSCALE_* from the environment)
run: command
	bin/autoscalebot run

## once: one tick, printing the decision
once: command
	bin/autoscalebot once

## test: every test, with the real stand-ins (moto_server, the Lambda emulator, cfn-lint, the SAM translator),
## then each fuzz target briefly
test: test-tools
	$(GO) test -count=1 ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_BRIEF)

# The Go tools come from the module proxy, pinned; the Python ones must be on the machine. Ruby runs
# the Rack recipe's test: installed with apt-get when make runs as root (a container), else that
# test is skipped, saying so. The job-queue recipes' tests (examples/jobs) run the real libraries
# and servers: Debian's packages below, installed with apt-get as root (after an apt-get update
# when the first try fails), and BullMQ from npm, pinned in its package-lock.json; what cannot be
# installed is named here, and those tests fail naming it too.
JOB_PACKAGES := redis-server postgresql ruby-sidekiq python3-celery python3-redis python3-rq
test-tools:
	@test -x $(TOOLS)/aws-lambda-rie || GOBIN=$(TOOLS) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)
	@command -v moto_server >/dev/null && command -v cfn-lint >/dev/null && python3 -c "import samtranslator" 2>/dev/null || \
		python3 -m pip install --quiet "moto[server]" cfn-lint aws-sam-translator || \
		{ echo "make test needs moto_server, cfn-lint and aws-sam-translator: pip install \"moto[server]\" cfn-lint aws-sam-translator"; exit 1; }
	@command -v ruby >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get install -y -qq ruby >/dev/null 2>&1; } || \
		echo "ruby is not installed: the Rails (Rack) recipe is not tested (apt-get install ruby)"
	@missing=$$(for p in $(JOB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || printf '%s ' $$p; done); \
	command -v node >/dev/null || missing="$$missing nodejs npm"; \
	[ -z "$$missing" ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ apt-get install -y -qq $$missing >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq $$missing >/dev/null 2>&1; }; }; } || \
		echo "the job-queue recipes' tests will fail: apt-get install $$missing"
	@test -d examples/jobs/bullmq/node_modules/bullmq || (cd examples/jobs/bullmq && npm ci --no-audit --no-fund --silent) || \
		echo "the BullMQ recipe's test will fail: cd examples/jobs/bullmq && npm ci"

## lint: gofmt, go vet, staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@test -x $(TOOLS)/staticcheck || GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	staticcheck ./...

## bench: benchmarks (cold start, warm invocation and bootstrap size under the emulator; two simulated
## days of ticks against moto and the fake Platform API; a year of simulated minutes; one probe), then
## side by side in one run: the bootstrap's and a minimal aws-lambda-go function's cold-start penalty and
## their ratio, the zipped arm64 bootstrap, and the warm invocation's own work in process. The benchmark
## table in CONTRIBUTING.md says which line gives each figure.
bench: test-tools
	$(GO) test -run '^$$' -bench . -benchmem ./...
	@echo "== side by side: cold-start penalty (bootstrap vs hellofn), arm64 zip, warm own work"
	$(GO) test -run '^$$' -bench 'BenchmarkColdStartPenalty|BenchmarkBootstrapSize' -benchtime 20x ./test/e2e
	$(GO) test -run '^$$' -bench 'BenchmarkWarmInvocationOwnWork' ./internal/lambdafn

## fuzz: each fuzz target for FUZZTIME
fuzz:
	@for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		pkg=$$($(GO) list $$dir); \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

# sam build calls this target (template.yaml: Metadata BuildMethod makefile). A fleet's settings
# file, when the repository root has one, is checked as the function will load it (`autoscalebot
# check`: a file with any problem fails the build, naming each by line) and put beside the bootstrap
# as autoscalebot.yaml, readable by the function's user; Lambda unpacks both in /var/task, where the
# template's SettingsFile points AUTOSCALE_SETTINGS_FILE.
SETTINGS_FILE ?= autoscalebot.yaml
PACKAGED_SETTINGS := autoscalebot.yaml
build-AutoscalerFunction:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set"; exit 1; }
	@rm -f "$(ARTIFACTS_DIR)/$(PACKAGED_SETTINGS)"
	@if [ -f "$(SETTINGS_FILE)" ]; then $(GO) run ./cmd/autoscalebot check -settings "$(SETTINGS_FILE)"; fi
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/autoscaler
	@if [ -f "$(SETTINGS_FILE)" ]; then install -m 644 "$(SETTINGS_FILE)" "$(ARTIFACTS_DIR)/$(PACKAGED_SETTINGS)"; fi

clean:
	rm -rf bin .tools
