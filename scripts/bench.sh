#!/usr/bin/env bash
# bench.sh — `make bench`: the benchmarks on the real parts, in two passes of one run, each in a
# fresh state folder:
#   1. on the Temporal dev server (the test profile's stack): the issuance benchmarks (the real
#      procedure and its no-op twin at 1 and 20 concurrent; one municipal and one CA worker against
#      two of each), then the waiting-list, console-list and ex-officio benchmarks and every other
#      package's benchmarks, `go test -run '^$' -bench . -benchtime …`;
#   2. on the Temporal cluster (scripts/cluster.sh's four services, mTLS, our authorizer; the
#      cluster profile's ports): the same issuance benchmarks, then the kill test
#      (BenchmarkKillUnderLoad: history and matching SIGKILLed under load);
# then a table of procedures per second and p50/p99 latency of each, the cluster's against the
# dev server's. Results in .dev/bench.txt, the table in .dev/bench-summary.txt.
#
# Environment: MADOGUCHI_BENCH_PKGS (space-separated packages; overrides the list below),
# MADOGUCHI_BENCHTIME (default 2s), MADOGUCHI_BENCH_COUNT (default 1), MADOGUCHI_BENCH_ISSUANCE (the
# issuance benchmarks to run, default 'InPersonIssuance|NoopShape'; the scale-out one matches
# 'InPersonIssuance'), MADOGUCHI_ISSUANCE_BENCHTIME (default 200x), MADOGUCHI_BENCH_WAITING=0,
# MADOGUCHI_BENCH_EXOFFICIO=0 and MADOGUCHI_BENCH_CONSOLE=0 (skip the waiting-list, the ex-officio
# batch and the console-list benchmarks), MADOGUCHI_BENCH_CLUSTER=0 (no cluster pass),
# MADOGUCHI_BENCH_DEV=0 (no dev-server pass), MADOGUCHI_BENCH_KILL=0 (no kill test),
# MADOGUCHI_KILL_PROCEDURES (default 160), the port overrides of lib.sh.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MD_LOG_TAG="bench"

# Packages with benchmarks — the lead fills this in. Empty: every package that has a Benchmark func.
BENCH_PKGS=()

# md_bench_summary FILE prints the issuance benchmarks of FILE as a table: procedures per second,
# p50 and p99 latency (or the kill test's pauses), and for each cluster row its ratio to the dev
# server's row of the same name, from the same run.
md_bench_summary() {
	awk '
	# A result is "BenchmarkX-2 <N> <value> <unit>…", or the name alone on its line when a log line
	# came between it and its figures, which follow on a line of their own.
	function record(from) {
		for (i = from; i < NF; i += 2) v[name, $(i + 1)] = $i
		names[++n] = name; name = ""
	}
	/^Benchmark(InPersonIssuance|NoopShape|KillUnderLoad)/ {
		name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
		if ($2 ~ /^[0-9]+$/ && NF > 3) record(3)
		next
	}
	name != "" && /^[ \t]+[0-9]+[ \t]+[0-9.]+ [a-z]/ { record(2) }
	END {
		printf "%-62s %13s %9s %9s %16s\n", "benchmark", "procedures/s", "p50 ms", "p99 ms", "cluster/dev p/s"
		for (k = 1; k <= n; k++) {
			name = names[k]
			if (name ~ /KillUnderLoad/) {
				printf "%-62s %13s  history: back in %s s, longest pause %s s; matching: back in %s s, longest pause %s s; max %s ms\n", name,
					v[name, "procedures/s"], v[name, "history-restart-s"], v[name, "history-pause-s"],
					v[name, "matching-restart-s"], v[name, "matching-pause-s"], v[name, "max-ms"]
				continue
			}
			ratio = ""
			if (name ~ /server=cluster/) {
				dev = name; sub(/server=cluster/, "server=dev", dev)
				if (v[dev, "procedures/s"] > 0) ratio = sprintf("%.2fx", v[name, "procedures/s"] / v[dev, "procedures/s"])
			}
			printf "%-62s %13s %9s %9s %16s\n", name, v[name, "procedures/s"], v[name, "p50-ms"], v[name, "p99-ms"], ratio
		}
	}' "$1"
}

# Without arguments: the two passes, each a bash of its own (lib.sh's state is per process), then
# the table. `--pass dev|cluster` is one pass.
if [[ -z ${1:-} ]]; then
	started=${SECONDS}
	mkdir -p "${MD_ROOT}/.dev"
	: >"${MD_ROOT}/.dev/bench.txt"
	rc=0
	if [[ ${MADOGUCHI_BENCH_DEV:-1} != 0 ]]; then
		bash "${MD_ROOT}/scripts/bench.sh" --pass dev || rc=$?
	fi
	if ((rc == 0)) && [[ ${MADOGUCHI_BENCH_CLUSTER:-1} != 0 ]]; then
		MD_CLUSTER=1 bash "${MD_ROOT}/scripts/bench.sh" --pass cluster || rc=$?
	fi
	md_bench_summary "${MD_ROOT}/.dev/bench.txt" | tee "${MD_ROOT}/.dev/bench-summary.txt"
	md_log "results in ${MD_ROOT}/.dev/bench.txt, the table in ${MD_ROOT}/.dev/bench-summary.txt (status ${rc}) — $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s"
	exit "${rc}"
fi
[[ ${1} == --pass && (${2:-} == dev || ${2:-} == cluster) ]] || md_die "usage: $0 [--pass dev|cluster]"
server="$2"
MD_LOG_TAG="bench ${server}"
if [[ ${server} == cluster ]]; then export MD_CLUSTER=1; else export MD_CLUSTER=0; fi

started=${SECONDS}
state=""
# shellcheck disable=SC2317 # called indirectly, by the EXIT trap
finish() {
	local rc="$1"
	if [[ -n ${state} && -d ${state} ]]; then
		if [[ ${rc} -eq 0 ]]; then rm -rf "${state}"; else md_log "state and logs kept in ${state}"; fi
	fi
	md_log "done (status ${rc}) — total $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s"
}
MD_ON_EXIT_HOOK=finish
md_init_trap

if [[ ${server} == cluster ]]; then
	bash "${MD_ROOT}/scripts/install.sh" --cluster
else
	bash "${MD_ROOT}/scripts/install.sh"
fi
cd "${MD_ROOT}"

if [[ -n ${MADOGUCHI_BENCH_PKGS:-} ]]; then
	read -r -a BENCH_PKGS <<<"${MADOGUCHI_BENCH_PKGS}"
fi
if ((${#BENCH_PKGS[@]} == 0)); then
	mapfile -t BENCH_PKGS < <(grep -rlE --include='*_test.go' '^func Benchmark' . 2>/dev/null |
		grep -v '^\./\.dev/' | xargs -r -n1 dirname | sort -u)
fi
if ((${#BENCH_PKGS[@]} == 0)); then
	md_log "no package has a benchmark; nothing to do"
	exit 0
fi

if [[ ${server} == cluster ]]; then md_profile cluster; else md_profile test; fi
mkdir -p "${MD_ROOT}/.dev"
state="$(mktemp -d "${MD_ROOT}/.dev/bench-XXXXXX")"
md_state_init "${state}" "${state}/bin"
md_build "${MD_BIN}"
md_infra_start

md_log "benchmarks in: ${BENCH_PKGS[*]}"
others=()
for pkg in "${BENCH_PKGS[@]}"; do
	if [[ ${pkg} == ./tests/bench ]]; then
		# Procedures end to end: a fixed count per run (each needs fresh residents, cards and keys).
		go test -count="${MADOGUCHI_BENCH_COUNT:-1}" -run '^$' -bench "${MADOGUCHI_BENCH_ISSUANCE:-InPersonIssuance|NoopShape}" \
			-benchtime "${MADOGUCHI_ISSUANCE_BENCHTIME:-200x}" -timeout 60m ./tests/bench 2>&1 |
			tee -a "${MD_ROOT}/.dev/bench.txt"
		if [[ ${server} == cluster ]]; then
			# The kill test: history, then matching, SIGKILLed while issuances run.
			if [[ ${MADOGUCHI_BENCH_KILL:-1} != 0 ]]; then
				if ! go test -count=1 -run '^$' -bench KillUnderLoad -benchtime 1x -timeout 20m -v ./tests/bench 2>&1 |
					tee -a "${MD_ROOT}/.dev/bench.txt"; then
					md_die "the kill test failed"
				fi
			fi
			continue
		fi
		# The waiting list of 1,000 open cases, visibility against one query per case: one pass
		# (it repeats its own rounds).
		if [[ ${MADOGUCHI_BENCH_WAITING:-1} != 0 ]]; then
			go test -count="${MADOGUCHI_BENCH_COUNT:-1}" -run '^$' -bench WaitingList -benchtime 1x \
				-timeout 60m ./tests/bench 2>&1 | tee -a "${MD_ROOT}/.dev/bench.txt"
		fi
		# The console's waiting list and case list pages with 1,000 open cases, against the JSON API
		# calls behind them: one pass (it repeats its own rounds).
		if [[ ${MADOGUCHI_BENCH_CONSOLE:-1} != 0 ]]; then
			go test -count="${MADOGUCHI_BENCH_COUNT:-1}" -run '^$' -bench ConsoleLists -benchtime 1x \
				-timeout 60m ./tests/bench 2>&1 | tee -a "${MD_ROOT}/.dev/bench.txt"
		fi
		# The ex-officio revocation of a batch of 100,000 register changes to OCSP-visible, against
		# one plain SQL UPDATE of the same rows: one pass (MADOGUCHI_EXOFFICIO_CHANGES sets the size).
		if [[ ${MADOGUCHI_BENCH_EXOFFICIO:-1} != 0 ]]; then
			go test -count="${MADOGUCHI_BENCH_COUNT:-1}" -run '^$' -bench ExOfficioBatch -benchtime 1x \
				-timeout 60m ./tests/bench 2>&1 | tee -a "${MD_ROOT}/.dev/bench.txt"
		fi
	else
		others+=("${pkg}")
	fi
done
if ((${#others[@]} > 0)) && [[ ${server} == dev ]]; then
	go test -count="${MADOGUCHI_BENCH_COUNT:-1}" -run '^$' -bench . -benchmem \
		-benchtime "${MADOGUCHI_BENCHTIME:-2s}" -timeout 60m "${others[@]}" 2>&1 |
		tee -a "${MD_ROOT}/.dev/bench.txt"
fi
