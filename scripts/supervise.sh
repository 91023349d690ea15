#!/usr/bin/env bash
# supervise.sh NAME CHILD_PIDFILE CMD... runs CMD and restarts it when it exits, with backoff:
# 1 s, doubling to 30 s, back to 1 s once a run lasted 60 s. Each exit and restart is logged to
# this process's stdout (the service's log) and to fd 3 when open (run.sh's terminal). After
# MADOGUCHI_SUPERVISE_GIVE_UP (default 5) exits in a row that each came within 60 s of their
# start, it gives up and exits 1, so run.sh stops everything instead of looping on a service that
# cannot start. TERM or INT stop the child and end the loop (run.sh's Ctrl-C and md_stop_pid).
# The child's pid is written to CHILD_PIDFILE as "<pid> <command>" at each start.
set -uo pipefail

name="$1" pidfile="$2"
shift 2
give_up="${MADOGUCHI_SUPERVISE_GIVE_UP:-5}"
stopping=0
child=""

say() {
	local line
	line="[supervise $(date +%H:%M:%S)] ${name}: $*"
	echo "${line}"
	{ echo "${line}" >&3; } 2>/dev/null || true
}

stop() {
	stopping=1
	if [[ -n ${child} ]]; then kill -TERM "${child}" 2>/dev/null || true; fi
}
trap stop TERM INT

backoff=1 quick=0
while :; do
	started=${SECONDS}
	"$@" &
	child=$!
	echo "${child} $1" >"${pidfile}"
	wait "${child}"
	rc=$?
	# A trapped signal interrupts wait: wait again for the child's own end.
	while kill -0 "${child}" 2>/dev/null; do
		wait "${child}"
		rc=$?
	done
	((stopping)) && break
	ran=$((SECONDS - started))
	if ((ran >= 60)); then
		backoff=1 quick=0
	else
		quick=$((quick + 1))
	fi
	if ((quick >= give_up)); then
		say "exited (status ${rc}) ${quick} times in a row within 60 s of starting; giving up"
		rm -f "${pidfile}"
		exit 1
	fi
	say "exited (status ${rc}) after ${ran} s; restarting in ${backoff} s"
	sleep "${backoff}" &
	wait $! || true
	((stopping)) && break
	backoff=$((backoff * 2 > 30 ? 30 : backoff * 2))
done
rm -f "${pidfile}"
exit 0
