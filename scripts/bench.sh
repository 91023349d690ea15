#!/usr/bin/env bash
# bench.sh — `make bench`: starts the same real parts as test.sh in a fresh state folder and runs
# the benchmarks, `go test -run '^$' -bench . -benchtime …`, of the packages listed below.
#
# Environment: MADOGUCHI_BENCH_PKGS (space-separated packages; overrides the list below),
# MADOGUCHI_BENCHTIME (default 2s), MADOGUCHI_BENCH_COUNT (default 1), MADOGUCHI_BENCH_ISSUANCE (the
# issuance benchmarks to run, default 'InPersonIssuance|NoopShape'), MADOGUCHI_BENCH_WAITING=0,
# MADOGUCHI_BENCH_EXOFFICIO=0 and MADOGUCHI_BENCH_CONSOLE=0 (skip the waiting-list, the ex-officio batch and
# the console-list benchmarks), the port overrides of lib.sh.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MD_LOG_TAG="bench"

# Packages with benchmarks — the lead fills this in. Empty: every package that has a Benchmark func.
BENCH_PKGS=()

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

bash "${MD_ROOT}/scripts/install.sh"
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

md_profile test
mkdir -p "${MD_ROOT}/.dev"
state="$(mktemp -d "${MD_ROOT}/.dev/bench-XXXXXX")"
md_state_init "${state}" "${state}/bin"
md_build "${MD_BIN}"
md_infra_start

md_log "benchmarks in: ${BENCH_PKGS[*]}"
: >"${MD_ROOT}/.dev/bench.txt"
others=()
for pkg in "${BENCH_PKGS[@]}"; do
	if [[ ${pkg} == ./tests/bench ]]; then
		# Procedures end to end: a fixed count per run (each needs fresh residents, cards and keys).
		go test -count="${MADOGUCHI_BENCH_COUNT:-1}" -run '^$' -bench "${MADOGUCHI_BENCH_ISSUANCE:-InPersonIssuance|NoopShape}" \
			-benchtime "${MADOGUCHI_ISSUANCE_BENCHTIME:-200x}" -timeout 60m ./tests/bench 2>&1 |
			tee -a "${MD_ROOT}/.dev/bench.txt"
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
if ((${#others[@]} > 0)); then
	go test -count="${MADOGUCHI_BENCH_COUNT:-1}" -run '^$' -bench . -benchmem \
		-benchtime "${MADOGUCHI_BENCHTIME:-2s}" -timeout 60m "${others[@]}" 2>&1 |
		tee -a "${MD_ROOT}/.dev/bench.txt"
fi
md_log "results saved in ${MD_ROOT}/.dev/bench.txt"
