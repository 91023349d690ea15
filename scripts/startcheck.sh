#!/usr/bin/env bash
# startcheck.sh — `make run` must come up on every start (issue 14: processes that open the SoftHSM
# token at the same moment could fail). Starts the back office with scripts/run.sh N times in a
# row (default 10) on one reused state folder <repo>/.dev/startcheck-XXXXXX, each stopping by itself
# MADOGUCHI_RUN_SECONDS after "running", and counts the starts that came up:
#   - run.sh printed "madoguchi is running";
#   - the CA worker's process was alive and polling its task queue (jlis-ca) on Temporal;
#   - the repository answered /healthz, and a demo verifier's OCSP request with an answer signed
#     by its delegated key in the HSM (checked with openssl ocsp against the CA certificate);
#   - run.sh then stopped by itself ("time is up", status 0), every process with it.
# Then one more start checks the supervision (issue 13): the CA worker is killed once it serves, and
# run.sh must log it, restart it (a new pid polling again) and keep running until its time is up.
# It fails unless every start came up and the supervision held. Not a timing test: the waits are generous bounds, the
# result is a count. The state is removed when all came up, kept (with its logs) otherwise.
#
# It runs beside `make test` and `make run`: its own state folder, its own ports, and no virtual
# card or card agent (MADOGUCHI_RUN_CARD=0), as pcscd's readers are shared by the whole machine.
#
# scripts/test.sh calls it after the go tests, except when MADOGUCHI_TEST_PKGS selects packages
# (a partial run, as for the fault-switch tests): it then says it did not run, and exits 0.
#
# Environment: MADOGUCHI_STARTCHECK_STARTS (default 10), MADOGUCHI_STARTCHECK_RUN_SECONDS (default
# 10), MADOGUCHI_STARTCHECK_{PG,TEMPORAL,TEMPORAL_UI,GATEWAY,REPOSITORY}_PORT (default 55436, 7263,
# 8263, 8083, 8093), MADOGUCHI_STARTCHECK_METRICS_PORT_BASE (default 9471: its five metrics ports
# from there), MADOGUCHI_KEEP_STATE=1 (keep the state folder even when all came up).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MD_LOG_TAG="startcheck"

if [[ -n ${MADOGUCHI_TEST_PKGS:-} ]]; then
	md_log "SKIPPED, not run: MADOGUCHI_TEST_PKGS selects packages (a partial run); run bash scripts/startcheck.sh by itself"
	exit 0
fi
starts="${MADOGUCHI_STARTCHECK_STARTS:-10}"
run_seconds="${MADOGUCHI_STARTCHECK_RUN_SECONDS:-10}"
pg_port="${MADOGUCHI_STARTCHECK_PG_PORT:-55436}"
temporal_port="${MADOGUCHI_STARTCHECK_TEMPORAL_PORT:-7263}"
ui_port="${MADOGUCHI_STARTCHECK_TEMPORAL_UI_PORT:-8263}"
gateway_port="${MADOGUCHI_STARTCHECK_GATEWAY_PORT:-8083}"
repository_port="${MADOGUCHI_STARTCHECK_REPOSITORY_PORT:-8093}"
repository_url="http://127.0.0.1:${repository_port}"
ca_task_queue="jlis-ca" # the CA worker's task queue (contract.CATaskQueue)
# Bounds against a hang, not measurements: the first start builds and makes the cluster and keys.
up_limit=300
stop_limit=120

# Two `make test` runs on one machine take turns here, as the ports are fixed.
exec {check_lock}>"${TMPDIR:-/tmp}/madoguchi-startcheck.lock"
if ! flock -n "${check_lock}"; then
	md_log "another start check is running on this machine; waiting for it (up to 15 min)"
	flock -w 900 "${check_lock}" || md_die "the other start check did not finish in 15 min"
fi
for p in "${pg_port}" "${temporal_port}" "${ui_port}" "${gateway_port}" "${repository_port}"; do
	md_require_port "${p}" "the start check (set MADOGUCHI_STARTCHECK_*_PORT)"
done
temporal="$(md_temporal_bin)"

mkdir -p "${MD_ROOT}/.dev"
state="$(mktemp -d "${MD_ROOT}/.dev/startcheck-XXXXXX")"
mkdir -p "${state}/logs"

# Each start runs with this environment only: what the caller (test.sh) exported for its own
# stack must not leak into it.
run_env=(
	MADOGUCHI_DEV="${state}"
	MADOGUCHI_RUN_SECONDS="${run_seconds}"
	MADOGUCHI_RUN_CARD=0
	MADOGUCHI_PG_PORT="${pg_port}"
	MADOGUCHI_TEMPORAL_PORT="${temporal_port}"
	MADOGUCHI_TEMPORAL_UI_PORT="${ui_port}"
	MADOGUCHI_GATEWAY_PORT="${gateway_port}"
	MADOGUCHI_REPOSITORY_URL="${repository_url}"
	MADOGUCHI_METRICS_PORT_BASE="${MADOGUCHI_STARTCHECK_METRICS_PORT_BASE:-9471}"
)

run_pid=""
# A start in progress is stopped (run.sh's TERM trap stops everything it started) if we are.
stop_run() {
	if [[ -n ${run_pid} ]] && kill -0 "${run_pid}" 2>/dev/null; then
		kill -TERM "${run_pid}" 2>/dev/null || true
		wait "${run_pid}" 2>/dev/null || true
	fi
}
trap 'stop_run' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

why=""
# ca_serving: the CA worker's process is alive and Temporal lists it among the pollers of its
# task queue (the SDK's default identity is "<pid>@<host>@").
ca_serving() {
	local pid
	# run.sh supervises the CA worker: its running process is the supervisor's child.
	pid="$(awk '{print $1}' "${state}/run/worker-ca.child.pid" 2>/dev/null || true)"
	if [[ -z ${pid} ]] || ! kill -0 "${pid}" 2>/dev/null; then
		why="the CA worker is not running"
		return 1
	fi
	if ! "${temporal}" task-queue describe --task-queue "${ca_task_queue}" --task-queue-type activity \
		--address "127.0.0.1:${temporal_port}" --command-timeout 5s -o json 2>/dev/null | grep -q "\"${pid}@"; then
		why="the CA worker (pid ${pid}) is not polling ${ca_task_queue}"
		return 1
	fi
}

# repository_serving: /healthz says ok, and an OCSP request of the demo user-authentication
# verifier (serial 1: unknown) gets an answer signed by the HSM that verifies against the CA.
repository_serving() {
	local health key out
	health="$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 && cat <&3' _ "${repository_port}" 2>/dev/null || true)"
	if [[ ${health} != *'"ok":true'* ]]; then
		why="the repository does not answer /healthz"
		return 1
	fi
	# The key follows the line that registered the verifier (later starts add "already registered").
	key="$(awk '/^registered .*demo-user-auth-verifier/ {getline; k = $0} END {print k}' "${state}/secrets/verifiers.txt" 2>/dev/null || true)"
	if [[ -z ${key} ]]; then
		why="no demo verifier key in ${state}/secrets/verifiers.txt"
		return 1
	fi
	if ! out="$(openssl ocsp -issuer "${state}/ca/auth-ca.pem" -serial 0x1 -url "${repository_url}/ocsp" \
		-header X-JPKI-Verifier-Key="${key}" -CAfile "${state}/ca/auth-ca.pem" -timeout 5 2>&1)" ||
		[[ ${out} != *"Response verify OK"* || ${out} != *"0x1: unknown"* ]]; then
		why="the repository's OCSP answer is missing or does not verify: $(tr '\n' ' ' <<<"${out}")"
		return 1
	fi
}

# one_start N: one start; fails, with the reason in $reason, unless it came up.
one_start() {
	local n="$1" log rc=0 served=0 ca_pid t0 seen
	log="${state}/logs/startcheck-${n}.log"
	env "${run_env[@]}" bash "${MD_ROOT}/scripts/run.sh" >"${log}" 2>&1 </dev/null {check_lock}>&- &
	run_pid=$!
	t0=${SECONDS}
	until grep -q "madoguchi is running" "${log}"; do
		if ! kill -0 "${run_pid}" 2>/dev/null; then
			wait "${run_pid}" || rc=$?
			run_pid=""
			reason="run.sh stopped (status ${rc}) before \"running\": $(grep -E 'ERROR|exited' "${log}" | tail -n 3 | tr '\n' ' ')"
			return 1
		fi
		if ((SECONDS - t0 > up_limit)); then
			stop_run
			reason="not \"running\" after ${up_limit} s"
			return 1
		fi
		sleep 0.5
	done
	why="run.sh stopped first"
	seen="${why}"
	while kill -0 "${run_pid}" 2>/dev/null; do
		if ca_serving && repository_serving; then
			served=1
			break
		fi
		# What failed while it ran, not while it was being stopped.
		grep -q "time is up" "${log}" || seen="${why}"
		sleep 0.5
	done
	ca_pid="$(awk '{print $1}' "${state}/run/worker-ca.child.pid" 2>/dev/null || true)"
	t0=${SECONDS}
	while kill -0 "${run_pid}" 2>/dev/null; do
		if ((SECONDS - t0 > run_seconds + stop_limit)); then
			stop_run
			reason="run.sh did not stop by itself"
			return 1
		fi
		sleep 0.5
	done
	wait "${run_pid}" || rc=$?
	run_pid=""
	if ((served == 0)); then
		reason="running, but not serving: ${seen}; $(grep -E 'exited|ERROR' "${log}" | tail -n 2 | tr '\n' ' ')"
		return 1
	fi
	if ((rc != 0)) || ! grep -q "time is up" "${log}"; then
		reason="a process died while running (run.sh status ${rc}): $(grep -E 'exited|ERROR' "${log}" | tail -n 2 | tr '\n' ' ')"
		return 1
	fi
	if [[ -n ${ca_pid} ]] && kill -0 "${ca_pid}" 2>/dev/null; then
		reason="the CA worker (pid ${ca_pid}) outlived run.sh"
		return 1
	fi
}

md_log "starting the back office ${starts} times on ${state} (ports: Postgres ${pg_port}, Temporal ${temporal_port}, repository ${repository_port}; ${run_seconds} s each after \"running\")"
up=0
failures=()
for ((n = 1; n <= starts; n++)); do
	reason=""
	if one_start "${n}"; then
		up=$((up + 1))
		md_log "start ${n}/${starts}: came up (CA worker polling, repository answering OCSP), stopped cleanly"
	else
		failures+=("start ${n}: ${reason} (log ${state}/logs/startcheck-${n}.log)")
		md_log "start ${n}/${starts}: DID NOT COME UP — ${reason}"
	fi
done
# supervised_restart: one more start, in which the CA worker is killed (SIGKILL, as a crash) once
# it serves: run.sh must log the crash, start it again (a new pid, polling again) and keep the rest
# running, then stop by itself with nothing left behind. Fails with the reason in $reason.
supervised_restart() {
	local log="${state}/logs/startcheck-supervise.log" rc=0 first="" second="" t0
	env "${run_env[@]}" MADOGUCHI_RUN_SECONDS=45 bash "${MD_ROOT}/scripts/run.sh" >"${log}" 2>&1 </dev/null {check_lock}>&- &
	run_pid=$!
	t0=${SECONDS}
	until ca_serving 2>/dev/null; do
		if ! kill -0 "${run_pid}" 2>/dev/null || ((SECONDS - t0 > up_limit)); then
			stop_run
			reason="the CA worker did not serve: ${why}"
			return 1
		fi
		sleep 0.5
	done
	first="$(awk '{print $1}' "${state}/run/worker-ca.child.pid")"
	kill -KILL "${first}"
	t0=${SECONDS}
	while :; do
		second="$(awk '{print $1}' "${state}/run/worker-ca.child.pid" 2>/dev/null || true)"
		if [[ -n ${second} && ${second} != "${first}" ]] && ca_serving 2>/dev/null; then
			break
		fi
		if ! kill -0 "${run_pid}" 2>/dev/null || ((SECONDS - t0 > 40)); then
			stop_run
			reason="the killed CA worker (pid ${first}) was not restarted and serving within 40 s: ${why}"
			return 1
		fi
		sleep 0.5
	done
	if ! grep -q "worker-ca: exited (status 137).*restarting" "${log}"; then
		stop_run
		reason="run.sh did not log the CA worker's crash and restart"
		return 1
	fi
	wait "${run_pid}" || rc=$?
	run_pid=""
	if ((rc != 0)) || ! grep -q "time is up" "${log}"; then
		reason="run.sh did not keep running after the restart (status ${rc}): $(grep -E 'exited|ERROR' "${log}" | tail -n 2 | tr '\n' ' ')"
		return 1
	fi
	if kill -0 "${second}" 2>/dev/null; then
		reason="the restarted CA worker (pid ${second}) outlived run.sh"
		return 1
	fi
}
reason=""
supervised=1
if supervised_restart; then
	md_log "supervision: the killed CA worker was logged, restarted and served again; run.sh then stopped cleanly"
else
	supervised=0
	failures+=("supervision: ${reason} (log ${state}/logs/startcheck-supervise.log)")
	md_log "supervision: FAILED — ${reason}"
fi

hsm_retries=$(cat "${state}"/logs/worker-ca.log "${state}"/logs/repository.log "${state}"/logs/setup.log 2>/dev/null |
	grep -c "hsm: open failed, retrying" || true)
md_log "${up}/${starts} starts came up (HSM open retries logged across them: ${hsm_retries})"
if ((up != starts || supervised == 0)); then
	printf '  %s\n' "${failures[@]}" >&2
	md_log "state and logs kept in ${state}"
	exit 1
fi
if [[ -z ${MADOGUCHI_KEEP_STATE:-} ]]; then
	rm -rf "${state}"
else
	md_log "state and logs kept in ${state}"
fi
