#!/usr/bin/env bash
# lib.sh — shared functions of run.sh, test.sh and bench.sh. Source it; do not run it.
#
# Everything is parameterised by a state folder: secrets, the env file, the Postgres cluster,
# the SoftHSM token store, the Temporal database and the logs live there. `make run` uses
# <repo>/.dev (git-ignored and reused across runs); `make test` a fresh <repo>/.dev/test-XXXXXX.
#
# Typical use:
#   source scripts/lib.sh
#   md_init_trap
#   md_profile run                      # or: test
#   md_state_init "${MD_ROOT}/.dev"      # lock, secrets, env file
#   md_build "${MD_BIN}"                 # go build ./cmd/...
#   md_infra_start                       # Postgres, SoftHSM token, pcscd, Temporal; exports the env file
#
# Ports can be overridden with MADOGUCHI_PG_PORT, MADOGUCHI_TEMPORAL_PORT, MADOGUCHI_TEMPORAL_UI_PORT
# and MADOGUCHI_GATEWAY_PORT.

# shellcheck disable=SC2034 # variables here are read by the scripts that source this file

if [[ -n ${MD_LIB_LOADED:-} ]]; then
	return 0
fi
MD_LIB_LOADED=1
# Let `set -e` reach into $(...) so a failed step inside a command substitution stops the script.
shopt -s inherit_errexit

MD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MD_PG_BIN="${MADOGUCHI_PG_BIN:-/usr/lib/postgresql/15/bin}"
MD_PKCS11_MODULE="${MADOGUCHI_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}"
MD_PCSCD_LOG="${TMPDIR:-/tmp}/madoguchi-pcscd.log"
MD_SEARCH_ATTRIBUTES=(MadoguchiCaseNumber MadoguchiProcedure MadoguchiMunicipality MadoguchiStep MadoguchiStatus MadoguchiWaiting MadoguchiOffice MadoguchiDue=Datetime)

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="/usr/local/go/bin:${PATH}"
fi

md_log() { printf '[%s %s] %s\n' "${MD_LOG_TAG:-madoguchi}" "$(date +%H:%M:%S)" "$*" >&2; }
md_die() {
	md_log "ERROR: $*"
	exit 1
}

# ---------------------------------------------------------------------------------------------
# Cleanup: every start registers how to stop what it started; md_cleanup runs them in reverse.
# ---------------------------------------------------------------------------------------------
MD_CLEANUP=()
MD_CLEANING=0

# md_on_exit registers a command line (evaluated at cleanup) to undo something just started.
md_on_exit() { MD_CLEANUP+=("$*"); }

# md_cleanup stops exactly what this script started, newest first. Safe to call twice.
md_cleanup() {
	((MD_CLEANING == 0)) || return 0
	MD_CLEANING=1
	local i
	for ((i = ${#MD_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${MD_CLEANUP[i]}" || md_log "cleanup step failed: ${MD_CLEANUP[i]}"
	done
	MD_CLEANUP=()
}

# md_init_trap installs the EXIT/INT/TERM trap. MD_ON_EXIT_HOOK (a function name), if set, runs
# after the cleanup with the exit status as argument (test.sh prints the elapsed time there).
# MD_INT_STATUS is the exit status after Ctrl-C: 130 by default, 0 for run.sh where Ctrl-C is the
# normal way to stop.
md_init_trap() {
	trap 'md__on_exit $?' EXIT
	trap 'md_log "interrupted — stopping"; exit "${MD_INT_STATUS:-130}"' INT
	trap 'md_log "terminated — stopping"; exit 143' TERM
}

md__on_exit() {
	local rc="$1"
	# A second Ctrl-C must not cut the teardown short (pg_ctl stop would leave a running server).
	trap '' INT
	trap - TERM
	md_cleanup
	if [[ -n ${MD_ON_EXIT_HOOK:-} ]]; then
		"${MD_ON_EXIT_HOOK}" "${rc}" || true
	fi
	exit "${rc}"
}

# ---------------------------------------------------------------------------------------------
# Profiles and state
# ---------------------------------------------------------------------------------------------

# md_profile run|test sets the ports of one profile; run and test differ so both can coexist.
md_profile() {
	MD_PROFILE="$1"
	case "${MD_PROFILE}" in
	run)
		MD_PG_PORT="${MADOGUCHI_PG_PORT:-55432}"
		MD_TEMPORAL_PORT="${MADOGUCHI_TEMPORAL_PORT:-7233}"
		MD_TEMPORAL_UI_PORT="${MADOGUCHI_TEMPORAL_UI_PORT:-8233}"
		MD_GATEWAY_PORT="${MADOGUCHI_GATEWAY_PORT:-8080}"
		;;
	test)
		MD_PG_PORT="${MADOGUCHI_PG_PORT:-55433}"
		MD_TEMPORAL_PORT="${MADOGUCHI_TEMPORAL_PORT:-7243}"
		MD_TEMPORAL_UI_PORT="${MADOGUCHI_TEMPORAL_UI_PORT:-8243}"
		MD_GATEWAY_PORT="${MADOGUCHI_GATEWAY_PORT:-8081}"
		;;
	cluster)
		# The cluster stage of the tests (scripts/cluster.sh --check): beside a test run's stack.
		MD_PG_PORT="${MADOGUCHI_PG_PORT:-55434}"
		MD_TEMPORAL_PORT="${MADOGUCHI_TEMPORAL_PORT:-7280}"
		MD_TEMPORAL_UI_PORT="${MADOGUCHI_TEMPORAL_UI_PORT:-8280}"
		MD_GATEWAY_PORT="${MADOGUCHI_GATEWAY_PORT:-8082}"
		;;
	*) md_die "unknown profile '${MD_PROFILE}' (want run, test or cluster)" ;;
	esac
	# The cluster's services (md_cluster_start), when it is asked for instead of the dev server:
	# frontend, history, matching and worker, each a gRPC and a membership port, on loopback.
	MD_CLUSTER_PORT_BASE="${MADOGUCHI_CLUSTER_PORT_BASE:-7280}"
	# Temporal's own Prometheus metrics (the benchmarks read them, tests/bench/servermetrics_test.go):
	# the dev server's on its port + 2000; the cluster's four services on the base + 9 to + 12, and
	# their Go profiles (/debug/pprof) on the base + 13 to + 16.
	MD_TEMPORAL_METRICS_PORT="${MADOGUCHI_TEMPORAL_METRICS_PORT:-$((MD_TEMPORAL_PORT + 2000))}"
	if [[ ${MD_CLUSTER:-0} == 1 ]]; then
		MD_TEMPORAL_PORT="${MD_CLUSTER_PORT_BASE}"
	fi
}

# md_state_init DIR [BIN_DIR] prepares the state folder: layout, the lock that keeps two scripts
# off one state, the secrets (made once) and the env file. Sets MD_STATE and MD_BIN.
md_state_init() {
	[[ -n ${MD_PROFILE:-} ]] || md_die "md_profile must be called before md_state_init"
	mkdir -p "$1"
	MD_STATE="$(cd "$1" && pwd)"
	MD_BIN="${2:-${MD_ROOT}/.dev/bin}"
	# 0711: the postgres user must traverse into <state>/pg, but may not list the folder.
	chmod 0711 "${MD_STATE}"
	mkdir -p "${MD_STATE}/logs" "${MD_STATE}/run" "${MD_STATE}/cards" "${MD_BIN}"

	exec {MD_LOCK_FD}>"${MD_STATE}/run/lock"
	flock -n "${MD_LOCK_FD}" || md_die "another script is using ${MD_STATE} (lock ${MD_STATE}/run/lock)"
	md_reap_stale

	md_secrets_init
	md_write_env
}

# md_secret FILE HEXBYTES prints the secret in FILE, making it with openssl rand the first time.
md_secret() {
	local file="$1" bytes="$2"
	if [[ ! -s ${file} ]]; then
		(
			umask 077
			openssl rand -hex "${bytes}" >"${file}.tmp"
			mv "${file}.tmp" "${file}"
		)
	fi
	chmod 0600 "${file}"
	cat "${file}"
}

# md_secrets_init makes the state's secrets once: Postgres passwords, HSM PINs and the codec key.
md_secrets_init() {
	local dir="${MD_STATE}/secrets"
	mkdir -p "${dir}"
	chmod 0700 "${dir}"
	MD_PG_PW_MADOGUCHI="$(md_secret "${dir}/pg-madoguchi.password" 24)"
	MD_PG_PW_JLIS="$(md_secret "${dir}/pg-jlis.password" 24)"
	MD_HSM_PIN="$(md_secret "${dir}/hsm-user.pin" 16)"
	MD_HSM_SO_PIN="$(md_secret "${dir}/hsm-so.pin" 16)"
	if [[ ${MD_CLUSTER:-0} == 1 ]]; then
		MD_PG_PW_TEMPORAL="$(md_secret "${dir}/pg-temporal.password" 24)"
	fi
	# The payload codec keyring: one key (32 random bytes, hex) to start; `codeckey rotate` adds
	# one that then encrypts, and the workers and the gateway follow the file without a restart.
	md_secret "${MD_STATE}/codec.key" 32 >/dev/null
}

# md_write_env writes <state>/env (mode 0600): the variables every binary and test reads.
md_write_env() {
	local env="${MD_STATE}/env" tmp
	tmp="${env}.tmp"
	(
		umask 077
		{
			echo "# Generated by scripts/lib.sh for the '${MD_PROFILE}' profile. Contains secrets: do not share."
			md__export MADOGUCHI_STATE "${MD_STATE}"
			md__export MADOGUCHI_DB_DSN "postgres://madoguchi:${MD_PG_PW_MADOGUCHI}@127.0.0.1:${MD_PG_PORT}/madoguchi"
			md__export MADOGUCHI_JLIS_DSN "postgres://jlis:${MD_PG_PW_JLIS}@127.0.0.1:${MD_PG_PORT}/jlis"
			md__export MADOGUCHI_PKCS11_MODULE "${MD_PKCS11_MODULE}"
			md__export MADOGUCHI_PKCS11_TOKEN jlis
			md__export MADOGUCHI_PKCS11_PIN "${MD_HSM_PIN}"
			md__export SOFTHSM2_CONF "${MD_STATE}/softhsm2.conf"
			md__export MADOGUCHI_CODEC_KEY_FILE "${MD_STATE}/codec.key"
			md__export MADOGUCHI_TEMPORAL_ADDR "127.0.0.1:${MD_TEMPORAL_PORT}"
			md__export MADOGUCHI_TEMPORAL_NAMESPACE default
			md__export MADOGUCHI_TEMPORAL_UI "http://127.0.0.1:${MD_TEMPORAL_UI_PORT}"
			if [[ ${MD_CLUSTER:-0} == 1 ]]; then
				md__export MADOGUCHI_TEMPORAL_METRICS "$(for ((i = 9; i <= 12; i++)); do printf 'http://127.0.0.1:%d/metrics,' $((MD_CLUSTER_PORT_BASE + i)); done)"
			else
				md__export MADOGUCHI_TEMPORAL_METRICS "http://127.0.0.1:${MD_TEMPORAL_METRICS_PORT}/metrics"
			fi
			md__export MADOGUCHI_GATEWAY_ADDR "127.0.0.1:${MD_GATEWAY_PORT}"
			md__export MADOGUCHI_REPOSITORY_URL "${MADOGUCHI_REPOSITORY_URL:-http://127.0.0.1:8090}"
			md__export MADOGUCHI_PCSC 1
			# The demo's accounts and residents: seeded by setup, and allowed by the gateway, only when set
			# (MADOGUCHI_DEMO=0 bash scripts/run.sh starts without them).
			md__export MADOGUCHI_DEMO "${MADOGUCHI_DEMO:-1}"
			md__export MADOGUCHI_BIN "${MD_BIN}"
			if [[ ${MD_CLUSTER:-0} == 1 ]]; then
				# The cluster takes mTLS only. This shell's (and the tests') identity is the operator's;
				# each process the scripts start gets its own (md_cluster_tls_env), the one the
				# cluster's authorizer reads (docs/CLUSTER.md).
				md__export MADOGUCHI_CLUSTER 1
				md__export MADOGUCHI_TEMPORAL_TLS_DIR "${MD_STATE}/cluster/tls"
				md__export MADOGUCHI_TEMPORAL_TLS_CA "${MD_STATE}/cluster/tls/ca.pem"
				md__export MADOGUCHI_TEMPORAL_TLS_CERT "${MD_STATE}/cluster/tls/admin.pem"
				md__export MADOGUCHI_TEMPORAL_TLS_KEY "${MD_STATE}/cluster/tls/admin.key"
				md__export MADOGUCHI_TEMPORAL_TLS_SERVER_NAME 127.0.0.1
			fi
		} >"${tmp}"
		mv "${tmp}" "${env}"
	)
}

md__export() { printf 'export %s=%q\n' "$1" "$2"; }

# ---------------------------------------------------------------------------------------------
# Background processes
# ---------------------------------------------------------------------------------------------

# md_start_bg NAME LOGFILE CMD... starts CMD in its own session (so a terminal's Ctrl-C reaches
# only this script, which then stops everything in order), records its PID in <state>/run/NAME.pid
# and registers its stop. Sets MD_LAST_PID.
md_start_bg() {
	local name="$1" logfile="$2"
	shift 2
	# The state lock's fd is closed in the child so a leftover process cannot hold the lock.
	setsid "$@" >>"${logfile}" 2>&1 </dev/null {MD_LOCK_FD}>&- &
	MD_LAST_PID=$!
	echo "${MD_LAST_PID} $1" >"${MD_STATE}/run/${name}.pid"
	MD_BG_PIDS+=("${MD_LAST_PID}")
	MD_BG_NAMES+=("${name}")
	md_on_exit "md_stop_pid ${name} ${MD_LAST_PID}"
}
MD_BG_PIDS=()
MD_BG_NAMES=()

# md_supervise NAME LOGFILE CMD... is md_start_bg with CMD run under scripts/supervise.sh, which
# restarts it with backoff when it crashes and gives up after repeated quick crashes. The
# supervisor leads the process group (so md_stop_pid stops both) and is what MD_LAST_PID and
# <state>/run/NAME.pid name; the running child is in <state>/run/NAME.child.pid. Restarts are
# reported in LOGFILE and on this script's stderr.
md_supervise() {
	local name="$1" logfile="$2"
	shift 2
	setsid bash "${MD_ROOT}/scripts/supervise.sh" "${name}" "${MD_STATE}/run/${name}.child.pid" "$@" \
		3>&2 >>"${logfile}" 2>&1 </dev/null {MD_LOCK_FD}>&- &
	MD_LAST_PID=$!
	echo "${MD_LAST_PID} supervise.sh" >"${MD_STATE}/run/${name}.pid"
	MD_BG_PIDS+=("${MD_LAST_PID}")
	MD_BG_NAMES+=("${name}")
	md_on_exit "md_stop_pid ${name} ${MD_LAST_PID}"
}

# md_stop_pid NAME PID stops the process group led by PID: TERM, then KILL after 15 s.
md_stop_pid() {
	local name="$1" pid="$2" i
	rm -f "${MD_STATE}/run/${name}.pid"
	kill -0 "${pid}" 2>/dev/null || return 0
	md_log "stopping ${name} (pid ${pid})"
	kill -TERM -- "-${pid}" 2>/dev/null || kill -TERM "${pid}" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		kill -0 "${pid}" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "${pid}" 2>/dev/null; then
		md_log "${name} did not stop in 15 s; killing it"
		kill -KILL -- "-${pid}" 2>/dev/null || kill -KILL "${pid}" 2>/dev/null || true
	fi
	wait "${pid}" 2>/dev/null || true
}

# md_reap_stale stops processes a previous, killed run of this state left behind (their PID files
# survive in <state>/run), checking the PID still runs the recorded program before signalling it.
md_reap_stale() {
	local f pid prog name pids=() i
	for f in "${MD_STATE}"/run/*.pid; do
		[[ -e ${f} ]] || continue
		read -r pid prog <"${f}" || true
		name="$(basename "${f}" .pid)"
		if [[ -n ${pid} ]] && kill -0 "${pid}" 2>/dev/null &&
			tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -qF -- "${prog}"; then
			md_log "stopping ${name} (pid ${pid}) left over from an earlier run"
			kill -TERM -- "-${pid}" 2>/dev/null || kill -TERM "${pid}" 2>/dev/null || true
			pids+=("${pid}")
		fi
		rm -f "${f}"
	done
	for pid in "${pids[@]}"; do
		for ((i = 0; i < 100; i++)); do
			kill -0 "${pid}" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-${pid}" 2>/dev/null || true
	done
	# A Postgres server left running is taken over by md_postgres_start.
}

# md_port_free PORT fails when something already listens on 127.0.0.1:PORT.
md_port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# md_require_port PORT WHAT dies with a clear message when PORT is taken.
md_require_port() {
	md_port_free "$1" || md_die "port $1 (for $2) is already in use on 127.0.0.1; stop what uses it or set the matching MADOGUCHI_*_PORT"
}

# md_wait_port PORT SECONDS waits until something listens on 127.0.0.1:PORT.
md_wait_port() {
	local port="$1" secs="$2" i
	for ((i = 0; i < secs * 10; i++)); do
		md_port_free "${port}" || return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------------------------------------
# Postgres
# ---------------------------------------------------------------------------------------------

# md_as_pg runs a command as the cluster's owner: the postgres user when we are root (initdb
# refuses root), else ourselves.
md_as_pg() {
	if [[ ${EUID} -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# md_psql_admin runs psql as the superuser over the state's unix socket; SQL comes on stdin so
# passwords never show in a process list.
md_psql_admin() {
	md_as_pg "${MD_PG_BIN}/psql" -X -q -v ON_ERROR_STOP=1 -h "${MD_PG_SOCK}" -p "${MD_PG_PORT}" \
		-U postgres -d postgres
}

# md_postgres_start makes (once) and starts the cluster in <state>/pg, provisions the two roles
# and databases, and registers its stop.
md_postgres_start() {
	local pgdir="${MD_STATE}/pg" data osuser
	data="${pgdir}/data"
	MD_PG_DATA="${data}"
	MD_PG_SOCK="${pgdir}/sock"
	# A unix socket path is limited to 107 bytes: fall back to a private folder under /tmp.
	if ((${#MD_PG_SOCK} + 20 > 107)); then
		MD_PG_SOCK="$(mktemp -d /tmp/madoguchi-pg.XXXXXX)"
		md_on_exit "rm -rf '${MD_PG_SOCK}'"
	fi
	osuser="$(id -un)"
	mkdir -p "${data}" "${MD_PG_SOCK}"
	touch "${MD_STATE}/logs/postgres.log"
	if [[ ${EUID} -eq 0 ]]; then
		id postgres >/dev/null 2>&1 || md_die "no 'postgres' user: is the postgresql package installed? (scripts/install.sh)"
		chown -R postgres:postgres "${pgdir}" "${MD_PG_SOCK}" "${MD_STATE}/logs/postgres.log"
		osuser=postgres
		runuser -u postgres -- test -w "${pgdir}" ||
			md_die "the postgres user cannot reach ${pgdir}: make its parent folders traversable (chmod o+x)"
	fi
	chmod 0700 "${data}" "${MD_PG_SOCK}"

	if [[ ! -s ${data}/PG_VERSION ]]; then
		md_log "Postgres: creating a cluster in ${data}"
		md_as_pg "${MD_PG_BIN}/initdb" -D "${data}" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
			--auth-local=peer --auth-host=scram-sha-256 --no-instructions >"${MD_STATE}/logs/initdb.log" 2>&1 ||
			md_die "initdb failed; see ${MD_STATE}/logs/initdb.log"
		md_as_pg sh -c "echo \"include_if_exists = 'madoguchi.conf'\" >> '${data}/postgresql.conf'"
	fi

	# Rewritten at every start so a port or profile change takes effect on a reused cluster.
	{
		echo "# written by scripts/lib.sh at every start"
		echo "listen_addresses = '127.0.0.1'"
		echo "port = ${MD_PG_PORT}"
		echo "unix_socket_directories = '${MD_PG_SOCK}'"
		echo "password_encryption = 'scram-sha-256'"
		echo "max_connections = 200"
		if [[ ${MD_PROFILE} == test || ${MD_PROFILE} == cluster ]]; then
			# A throw-away cluster: durability buys nothing here and costs seconds per test.
			echo "fsync = off"
			echo "synchronous_commit = off"
			echo "full_page_writes = off"
		fi
	} | md_as_pg sh -c "cat > '${data}/madoguchi.conf'"
	# Only the superuser over the socket (peer, mapped from the OS user that owns the cluster)
	# and each application role into its own database over TCP with a password.
	md_as_pg sh -c "cat > '${data}/pg_hba.conf'" <<EOF
# written by scripts/lib.sh
# TYPE  DATABASE   USER       ADDRESS       METHOD
local   all        postgres                 peer map=owner
host    madoguchi  madoguchi  127.0.0.1/32  scram-sha-256
host    jlis       jlis       127.0.0.1/32  scram-sha-256
EOF
	if [[ ${MD_CLUSTER:-0} == 1 ]]; then
		echo "host    temporal,temporal_visibility  temporal  127.0.0.1/32  scram-sha-256" |
			md_as_pg sh -c "cat >> '${data}/pg_hba.conf'"
	fi
	md_as_pg sh -c "cat > '${data}/pg_ident.conf'" <<EOF
# written by scripts/lib.sh
owner  ${osuser}  postgres
EOF

	if md_as_pg "${MD_PG_BIN}/pg_ctl" -D "${data}" status >/dev/null 2>&1; then
		md_log "Postgres: a server from an earlier run is still up; restarting it under this run"
		md_as_pg "${MD_PG_BIN}/pg_ctl" -D "${data}" -m fast -w stop >/dev/null
	fi
	md_require_port "${MD_PG_PORT}" Postgres
	md_log "Postgres: starting on 127.0.0.1:${MD_PG_PORT}"
	# The state lock's fd is closed for the server, like for every background process.
	md_as_pg "${MD_PG_BIN}/pg_ctl" -D "${data}" -l "${MD_STATE}/logs/postgres.log" -w -t 60 start >/dev/null {MD_LOCK_FD}>&- ||
		md_die "Postgres did not start; see ${MD_STATE}/logs/postgres.log"
	md_on_exit md_postgres_stop

	md_postgres_provision
	md_log "Postgres: ready (databases madoguchi, jlis)"
}

md_postgres_stop() {
	md_log "stopping Postgres"
	md_as_pg "${MD_PG_BIN}/pg_ctl" -D "${MD_PG_DATA}" -m fast -w -t 60 stop >/dev/null ||
		md_log "pg_ctl stop failed; see ${MD_STATE}/logs/postgres.log"
}

# md_postgres_provision creates roles madoguchi and jlis and their databases (idempotent) and
# (re)sets the passwords from the state's secrets. Neither role can connect to the other's database.
md_postgres_provision() {
	md_psql_admin <<EOF
SELECT 'CREATE ROLE madoguchi' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'madoguchi')\gexec
SELECT 'CREATE ROLE jlis' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'jlis')\gexec
ALTER ROLE madoguchi LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${MD_PG_PW_MADOGUCHI}';
ALTER ROLE jlis LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${MD_PG_PW_JLIS}';
SELECT 'CREATE DATABASE madoguchi OWNER madoguchi' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'madoguchi')\gexec
SELECT 'CREATE DATABASE jlis OWNER jlis' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'jlis')\gexec
REVOKE CONNECT, TEMPORARY ON DATABASE madoguchi FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE jlis FROM PUBLIC;
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
EOF
}

# ---------------------------------------------------------------------------------------------
# SoftHSM2
# ---------------------------------------------------------------------------------------------

# md_softhsm_init writes <state>/softhsm2.conf and initialises the token "jlis" once. The keys
# are made later by the setup binary.
md_softhsm_init() {
	local conf="${MD_STATE}/softhsm2.conf" tokens="${MD_STATE}/softhsm/tokens"
	mkdir -p "${tokens}"
	chmod 0700 "${MD_STATE}/softhsm" "${tokens}"
	cat >"${conf}" <<EOF
# written by scripts/lib.sh
directories.tokendir = ${tokens}
objectstore.backend = file
log.level = ERROR
EOF
	export SOFTHSM2_CONF="${conf}"
	if softhsm2-util --show-slots 2>/dev/null | grep -Eq '^[[:space:]]*Label:[[:space:]]+jlis[[:space:]]*$'; then
		md_log "SoftHSM2: token 'jlis' present"
		return
	fi
	md_log "SoftHSM2: initialising token 'jlis'"
	# softhsm2-util reads PINs only from a terminal or its arguments; its output never echoes them.
	softhsm2-util --init-token --free --label jlis --pin "${MD_HSM_PIN}" --so-pin "${MD_HSM_SO_PIN}" \
		>"${MD_STATE}/logs/softhsm-init.log" 2>&1 || md_die "softhsm2-util --init-token failed; see ${MD_STATE}/logs/softhsm-init.log"
	softhsm2-util --show-slots 2>/dev/null | grep -Eq '^[[:space:]]*Label:[[:space:]]+jlis[[:space:]]*$' ||
		md_die "token 'jlis' not listed after initialisation"
	md_log "SoftHSM2: token 'jlis' ready"
}

# ---------------------------------------------------------------------------------------------
# pcscd + vsmartcard-vpcd
# ---------------------------------------------------------------------------------------------

# md_pcscd_ensure reuses a running pcscd or starts one (no systemd here). pcscd is a machine-wide
# daemon that other runs may share, so it is deliberately left running at exit.
md_pcscd_ensure() {
	local i
	if pgrep -x pcscd >/dev/null 2>&1; then
		md_log "pcscd: already running"
	else
		if [[ -S /run/pcscd/pcscd.comm ]]; then
			rm -f /run/pcscd/pcscd.comm # stale: no pcscd owns it
		fi
		mkdir -p /run/pcscd
		md_log "pcscd: starting (log ${MD_PCSCD_LOG}; left running at exit)"
		# pcscd outlives this run: it must hold none of its descriptors, or a
		# lock taken around the run (flock file cmd) would stay held with it.
		if [[ -n ${MD_LOCK_FD:-} ]]; then
			setsid pcscd --foreground >>"${MD_PCSCD_LOG}" 2>&1 </dev/null {MD_LOCK_FD}>&- 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
		else
			setsid pcscd --foreground >>"${MD_PCSCD_LOG}" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
		fi
		disown $! 2>/dev/null || true
	fi
	for ((i = 0; i < 100; i++)); do
		[[ -S /run/pcscd/pcscd.comm ]] && break
		sleep 0.1
	done
	[[ -S /run/pcscd/pcscd.comm ]] || md_die "pcscd socket /run/pcscd/pcscd.comm did not appear; see ${MD_PCSCD_LOG}"
	# vpcd's readers appear once pcscd has loaded /etc/reader.conf.d/vpcd.
	for ((i = 0; i < 50; i++)); do
		if opensc-tool --list-readers 2>/dev/null | grep -q 'Virtual PCD 00 00'; then
			md_log "pcscd: ready (readers 'Virtual PCD 00 00' and 'Virtual PCD 00 01')"
			return
		fi
		sleep 0.2
	done
	md_die "pcscd runs but lists no 'Virtual PCD 00 00' reader: is vsmartcard-vpcd installed (/etc/reader.conf.d/vpcd)?"
}

# ---------------------------------------------------------------------------------------------
# Temporal dev server
# ---------------------------------------------------------------------------------------------

# md_temporal_bin prints the path of the Temporal CLI installed by install.sh.
md_temporal_bin() {
	local gobin
	gobin="$(go env GOBIN)"
	[[ -n ${gobin} ]] || gobin="$(go env GOPATH)/bin"
	if [[ -x ${gobin}/temporal ]]; then
		echo "${gobin}/temporal"
	elif command -v temporal >/dev/null 2>&1; then
		command -v temporal
	else
		md_die "Temporal CLI not found in ${gobin}: run scripts/install.sh"
	fi
}

# md_temporal_start starts `temporal server start-dev` for the profile, with the project's search
# attributes and the UI's codec endpoint on the gateway; waits until it serves.
# The endpoint decodes for a signed-in manager only (gateway/codec.go), by the login cookie, which
# the browser sends only when the UI includes cross-origin credentials; `start-dev` (CLI v1.5.1)
# has no flag for that (its UI config sets the endpoint alone), so each manager ticks it once in
# the UI's codec settings, as the log line below says.
md_temporal_start() {
	local bin args sa i addr
	bin="$(md_temporal_bin)"
	MD_TEMPORAL_BIN="${bin}"
	addr="127.0.0.1:${MD_TEMPORAL_PORT}"
	md_require_port "${MD_TEMPORAL_PORT}" "Temporal frontend"
	md_require_port "${MD_TEMPORAL_UI_PORT}" "Temporal UI"
	md_require_port "${MD_TEMPORAL_METRICS_PORT}" "Temporal metrics"
	args=(server start-dev --ip 127.0.0.1 --port "${MD_TEMPORAL_PORT}" --ui-port "${MD_TEMPORAL_UI_PORT}"
		--namespace default --log-level warn
		--ui-codec-endpoint "http://127.0.0.1:${MD_GATEWAY_PORT}/codec"
		# WAL + synchronous=normal: the default pragmas are 3x slower with 7 s tails (DESIGN §6).
		--db-filename "${MD_STATE}/temporal.db"
		--sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal
		# The history service loads new transfer tasks (every activity and workflow task to
		# dispatch) at most 20 times a second per shard by default, and the dev server has one
		# shard: each step then waited ~45 ms before matching saw it (its task_latency_load).
		# 200 loads a second: a procedure one at a time takes 80 ms instead of 550 (README, Figures).
		--dynamic-config-value history.transferProcessorMaxPollRPS=200
		--metrics-port "${MD_TEMPORAL_METRICS_PORT}")
	# Each is NAME (a Keyword) or NAME=TYPE.
	for sa in "${MD_SEARCH_ATTRIBUTES[@]}"; do
		[[ "${sa}" == *=* ]] || sa="${sa}=Keyword"
		args+=(--search-attribute "${sa}")
	done
	md_log "Temporal: starting dev server on ${addr} (UI port ${MD_TEMPORAL_UI_PORT})"
	md_start_bg temporal "${MD_STATE}/logs/temporal.log" "${bin}" "${args[@]}"
	for ((i = 0; i < 120; i++)); do
		if ! kill -0 "${MD_LAST_PID}" 2>/dev/null; then
			tail -n 20 "${MD_STATE}/logs/temporal.log" >&2 || true
			md_die "Temporal dev server exited; see ${MD_STATE}/logs/temporal.log"
		fi
		if "${bin}" operator cluster health --address "${addr}" --command-timeout 2s 2>/dev/null | grep -q SERVING &&
			"${bin}" operator namespace describe --namespace default --address "${addr}" --command-timeout 2s >/dev/null 2>&1; then
			md_log "Temporal: ready (UI http://127.0.0.1:${MD_TEMPORAL_UI_PORT})"
			md_log "Temporal UI: to read decoded histories, sign in as a manager at http://127.0.0.1:${MD_GATEWAY_PORT}/codec/login, then in the UI (http://127.0.0.1:${MD_TEMPORAL_UI_PORT}, not localhost) open Configure Codec Server: endpoint http://127.0.0.1:${MD_GATEWAY_PORT}/codec, tick Include cross-origin credentials, choose Use my browser setting"
			return
		fi
		sleep 0.5
	done
	md_die "Temporal did not become healthy in 60 s; see ${MD_STATE}/logs/temporal.log"
}

# ---------------------------------------------------------------------------------------------
# Temporal cluster (MD_CLUSTER=1): the real server of cluster/, four services, mTLS, our authorizer
# ---------------------------------------------------------------------------------------------

# The identities the local CA certifies: each process that talks to Temporal, the operator
# (admin: the CLI and the tests' own client) and the server's system worker. Terminals are the
# demo's and the tests'.
MD_CLUSTER_IDENTITIES=(gateway caworker worker:municipal admin temporal-system
	terminal:T0001 terminal:T0002 terminal:Y0001 terminal:P0001)

# md_cluster_tls_env IDENTITY prints the NAME=VALUE words that give a process that identity's
# certificate (for env(1)); nothing when the cluster is not in use.
md_cluster_tls_env() {
	[[ ${MD_CLUSTER:-0} == 1 ]] || return 0
	local stem="${1//:/-}" dir="${MD_STATE}/cluster/tls"
	echo "MADOGUCHI_TEMPORAL_TLS_CERT=${dir}/${stem}.pem MADOGUCHI_TEMPORAL_TLS_KEY=${dir}/${stem}.key"
}

# md_cluster_cli runs the Temporal CLI against the cluster as the operator (admin certificate).
md_cluster_cli() {
	local dir="${MD_STATE}/cluster/tls"
	"${MD_TEMPORAL_BIN}" "$@" --address "127.0.0.1:${MD_TEMPORAL_PORT}" --tls-ca-path "${dir}/ca.pem" \
		--tls-cert-path "${dir}/admin.pem" --tls-key-path "${dir}/admin.key" --tls-server-name 127.0.0.1
}

# md_cluster_write_config writes the server's configuration (one file for the four services).
md_cluster_write_config() {
	local dir="$1" tls="${MD_STATE}/cluster/tls" b="${MD_CLUSTER_PORT_BASE}"
	mkdir -p "${dir}"
	(
		umask 077
		cat >"${dir}/development.yaml" <<EOF
# written by scripts/lib.sh (md_cluster_write_config) at every start; holds a password
log:
  stdout: true
  level: warn
persistence:
  defaultStore: pg-default
  visibilityStore: pg-visibility
  numHistoryShards: 4
  datastores:
    pg-default:
      sql:
        pluginName: postgres12
        databaseName: temporal
        connectAddr: "127.0.0.1:${MD_PG_PORT}"
        connectProtocol: tcp
        user: temporal
        password: "${MD_PG_PW_TEMPORAL}"
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
    pg-visibility:
      sql:
        pluginName: postgres12
        databaseName: temporal_visibility
        connectAddr: "127.0.0.1:${MD_PG_PORT}"
        connectProtocol: tcp
        user: temporal
        password: "${MD_PG_PW_TEMPORAL}"
        maxConns: 5
        maxIdleConns: 5
        maxConnLifetime: 1h
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
  tls:
    internode:
      server:
        certFile: ${tls}/server.pem
        keyFile: ${tls}/server.key
        requireClientAuth: true
        clientCaFiles: [${tls}/ca.pem]
      client:
        serverName: 127.0.0.1
        rootCaFiles: [${tls}/ca.pem]
    frontend:
      server:
        certFile: ${tls}/server.pem
        keyFile: ${tls}/server.key
        requireClientAuth: true
        clientCaFiles: [${tls}/ca.pem]
      client:
        serverName: 127.0.0.1
        rootCaFiles: [${tls}/ca.pem]
    systemWorker:
      certFile: ${tls}/temporal-system.pem
      keyFile: ${tls}/temporal-system.key
      client:
        serverName: 127.0.0.1
        rootCaFiles: [${tls}/ca.pem]
services:
  frontend:
    rpc: {grpcPort: ${b}, membershipPort: $((b + 1)), httpPort: $((b + 8)), bindOnLocalHost: true}
  history:
    rpc: {grpcPort: $((b + 2)), membershipPort: $((b + 3)), bindOnLocalHost: true}
  matching:
    rpc: {grpcPort: $((b + 4)), membershipPort: $((b + 5)), bindOnLocalHost: true}
  worker:
    rpc: {grpcPort: $((b + 6)), membershipPort: $((b + 7)), bindOnLocalHost: true}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:${b}"
      httpAddress: "127.0.0.1:$((b + 8))"
dcRedirectionPolicy:
  policy: noop
publicClient:
  hostPort: "127.0.0.1:${b}"
dynamicConfigClient:
  filepath: ${dir}/dynamicconfig.yaml
  pollInterval: 60s
EOF
	)
	cat >"${dir}/dynamicconfig.yaml" <<EOF
# written by scripts/lib.sh. One partition per task queue: the gateway reads a terminal's pollers
# from DescribeTaskQueue (gateway/terminals.go), which sees the root partition's.
matching.numTaskqueueReadPartitions:
  - value: 1
matching.numTaskqueueWritePartitions:
  - value: 1
# A search attribute just added is seen at once (setup and the tests start right after).
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
# New transfer tasks loaded up to 200 times a second per shard, not 20: each dispatch otherwise
# waits up to 50 ms (README, Figures; the dev server gets the same in md_temporal_start).
history.transferProcessorMaxPollRPS:
  - value: 200
EOF
}

# md_cluster_schema loads (first time) and updates (every time; the tool skips what is applied)
# the server's schemas into the databases temporal and temporal_visibility.
md_cluster_schema() {
	local tool="${MD_CLUSTER_DIR}/temporal-sql-tool" db sub log="${MD_STATE}/logs/cluster-schema.log"
	for db in temporal temporal_visibility; do
		sub=temporal
		[[ ${db} == temporal ]] || sub=visibility
		if ! md_as_pg "${MD_PG_BIN}/psql" -X -q -h "${MD_PG_SOCK}" -p "${MD_PG_PORT}" -U postgres -d "${db}" -tA \
			-c "SELECT 1 FROM pg_tables WHERE tablename = 'schema_version'" </dev/null | grep -q 1; then
			SQL_PASSWORD="${MD_PG_PW_TEMPORAL}" "${tool}" --plugin postgres12 --ep 127.0.0.1 -p "${MD_PG_PORT}" -u temporal \
				--db "${db}" setup-schema -v 0.0 >>"${log}" 2>&1 || md_die "schema setup of ${db} failed; see ${log}"
		fi
		SQL_PASSWORD="${MD_PG_PW_TEMPORAL}" "${tool}" --plugin postgres12 --ep 127.0.0.1 -p "${MD_PG_PORT}" -u temporal \
			--db "${db}" update-schema -d "${MD_CLUSTER_DIR}/schema/postgresql/v12/${sub}/versioned" >>"${log}" 2>&1 ||
			md_die "schema update of ${db} failed; see ${log}"
	done
}

# md_cluster_start starts the Temporal cluster on the state's Postgres: its role and databases,
# the schemas, the local CA's certificates, the four services as processes of their own, the
# namespace and the project's search attributes. Needs md_postgres_start first.
md_cluster_start() {
	local i svc conf="${MD_STATE}/cluster/config" sa args=() addr pid
	MD_CLUSTER_DIR="$(bash "${MD_ROOT}/scripts/install.sh" --cluster-dir)"
	[[ -x ${MD_CLUSTER_DIR}/temporal-server ]] || md_die "the cluster is not built: run bash scripts/install.sh --cluster"
	MD_TEMPORAL_BIN="$(md_temporal_bin)"
	addr="127.0.0.1:${MD_TEMPORAL_PORT}"
	for ((i = 0; i < 17; i++)); do
		md_require_port $((MD_CLUSTER_PORT_BASE + i)) "the Temporal cluster"
	done
	md_psql_admin <<EOF
SELECT 'CREATE ROLE temporal' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'temporal')\gexec
ALTER ROLE temporal LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${MD_PG_PW_TEMPORAL}';
SELECT 'CREATE DATABASE temporal OWNER temporal' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal')\gexec
SELECT 'CREATE DATABASE temporal_visibility OWNER temporal' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal_visibility')\gexec
REVOKE CONNECT, TEMPORARY ON DATABASE temporal FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE temporal_visibility FROM PUBLIC;
EOF
	md_log "Temporal cluster: schemas (${MD_CLUSTER_DIR##*/})"
	md_cluster_schema
	"${MD_CLUSTER_DIR}/clusterca" -dir "${MD_STATE}/cluster/tls" "${MD_CLUSTER_IDENTITIES[@]}" ||
		md_die "the cluster's local CA failed"
	md_cluster_write_config "${conf}"
	# One after the other, each once it listens: on fresh databases the first to start writes the
	# cluster's metadata, and two at once collide on it (the loser exits). History first: the
	# others find it through the membership ring.
	# The worker service is a client of the frontend and did not open its gRPC port at start here:
	# it is started last, not waited for, and the health loop below watches that it stays up.
	declare -A grpc_port=([history]=$((MD_CLUSTER_PORT_BASE + 2)) [matching]=$((MD_CLUSTER_PORT_BASE + 4))
		[frontend]=${MD_CLUSTER_PORT_BASE})
	# Each service runs under scripts/supervise.sh, as make run's own services do: a crashed or
	# killed one (the kill test of tests/bench) is restarted with backoff, and its child's pid is
	# in <state>/run/temporal-<service>.child.pid.
	declare -A metrics_port=([history]=$((MD_CLUSTER_PORT_BASE + 9)) [matching]=$((MD_CLUSTER_PORT_BASE + 10))
		[frontend]=$((MD_CLUSTER_PORT_BASE + 11)) [worker]=$((MD_CLUSTER_PORT_BASE + 12)))
	for svc in history matching frontend worker; do
		md_log "Temporal cluster: starting ${svc}"
		md_supervise "temporal-${svc}" "${MD_STATE}/logs/temporal-${svc}.log" \
			"${MD_CLUSTER_DIR}/temporal-server" -config "${conf}" -service "${svc}" -namespaces default \
			-metrics "127.0.0.1:${metrics_port[${svc}]}" -pprof $((metrics_port[${svc}] + 4))
		pid="${MD_LAST_PID}"
		[[ -n ${grpc_port[${svc}]:-} ]] || continue
		for ((i = 0; i < 600; i++)); do
			md_port_free "${grpc_port[${svc}]}" || break
			if ! kill -0 "${pid}" 2>/dev/null; then
				tail -n 20 "${MD_STATE}/logs/temporal-${svc}.log" >&2 || true
				md_die "Temporal ${svc} exited; see ${MD_STATE}/logs/temporal-${svc}.log"
			fi
			sleep 0.1
		done
		((i < 600)) || md_die "Temporal ${svc} did not listen on ${grpc_port[${svc}]} in 60 s; see ${MD_STATE}/logs/temporal-${svc}.log"
	done
	for ((i = 0; i < 240; i++)); do
		for svc in history matching frontend worker; do
			read -r pid _ <"${MD_STATE}/run/temporal-${svc}.pid"
			if ! kill -0 "${pid}" 2>/dev/null; then
				tail -n 20 "${MD_STATE}/logs/temporal-${svc}.log" >&2 || true
				md_die "Temporal ${svc} exited; see ${MD_STATE}/logs/temporal-${svc}.log"
			fi
		done
		if md_cluster_cli operator cluster health --command-timeout 2s 2>/dev/null | grep -q SERVING; then
			break
		fi
		sleep 0.5
	done
	((i < 240)) || md_die "the Temporal cluster did not become healthy in 120 s; see ${MD_STATE}/logs/temporal-*.log"
	for ((i = 0; i < 30; i++)); do
		md_cluster_cli operator namespace describe --namespace default --command-timeout 5s >/dev/null 2>&1 && break
		md_cluster_cli operator namespace create --namespace default --retention 72h --command-timeout 10s \
			>>"${MD_STATE}/logs/cluster-setup.log" 2>&1 || sleep 1
	done
	((i < 30)) || md_die "could not register the namespace default on the cluster; see ${MD_STATE}/logs/cluster-setup.log"
	for sa in "${MD_SEARCH_ATTRIBUTES[@]}"; do
		[[ "${sa}" == *=* ]] || sa="${sa}=Keyword"
		args+=(--name "${sa%%=*}" --type "${sa#*=}")
	done
	# Idempotent: an attribute already there with its type is not an error for the CLI.
	for ((i = 0; i < 30; i++)); do
		if md_cluster_cli operator search-attribute create --namespace default "${args[@]}" --command-timeout 10s \
			>>"${MD_STATE}/logs/cluster-setup.log" 2>&1; then
			break
		fi
		sleep 1 # the namespace just registered reaches every service within seconds
	done
	((i < 30)) || md_die "could not create the search attributes on the cluster; see ${MD_STATE}/logs/cluster-setup.log"
	md_log "Temporal cluster: ready on ${addr} (mTLS; certificates in ${MD_STATE}/cluster/tls)"
}

# md_infra_start starts all real parts for the current profile and state, then exports the env file.
# With MD_CLUSTER=1 Temporal is the cluster of cluster/ instead of the CLI's dev server.
md_infra_start() {
	md_postgres_start
	md_softhsm_init
	md_pcscd_ensure
	if [[ ${MD_CLUSTER:-0} == 1 ]]; then
		md_cluster_start
	else
		md_temporal_start
	fi
	md_load_env
}


# md_load_env exports the state's env file into this shell (and so to every child).
md_load_env() {
	# shellcheck disable=SC1091 # generated at run time
	source "${MD_STATE}/env"
}

# MD_FAULTS_TAG is the build tag that compiles in the tests' switches which weaken a rule: the
# crash test's fault points (internal/ca, cmd/cardagent) and the proxy inquiry's earliest reply
# (internal/config). Without it those environment variables are never read.
MD_FAULTS_TAG=madoguchi_faults

# md_build BIN_DIR builds every command under cmd/ into BIN_DIR: with MD_FAULTS_TAG for the test
# and bench profiles, whose tests use those switches; never for run, which builds what production runs.
md_build() {
	local out="$1" tags=()
	case "${MD_PROFILE:-}" in
	test | bench | cluster) tags=(-tags "${MD_FAULTS_TAG}") ;;
	esac
	mkdir -p "${out}"
	md_log "building ./cmd/... into ${out}${tags[*]:+ (${tags[*]})}"
	(cd "${MD_ROOT}" && go build "${tags[@]}" -o "${out}/" ./cmd/...) || md_die "go build ./cmd/... failed"
}
