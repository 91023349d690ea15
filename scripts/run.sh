#!/usr/bin/env bash
# run.sh — `make run`: starts the whole back office on the embedded defaults, in the state folder
# <repo>/.dev (reused by the next run), and prints where to go. Ctrl-C stops everything.
#
#   scripts/run.sh            everything: infra, setup, workers, gateway, virtual card, card agent
#   scripts/run.sh --infra    only Postgres, SoftHSM, pcscd and Temporal (for `go test` by hand:
#                             `source .dev/env` in another shell)
#
# Environment: MADOGUCHI_DEV (state folder, default <repo>/.dev), MADOGUCHI_RUN_SECONDS (stop by
# itself after N seconds — for smoke tests; default: run until Ctrl-C), MADOGUCHI_RUN_CARD=0 (start
# neither the virtual card nor the card agent: they take pcscd's reader 0 and port 8181, which the
# whole machine shares — scripts/startcheck.sh runs beside `make test` so), MADOGUCHI_REPOSITORY_URL
# and the port overrides of lib.sh. MD_CLUSTER=1 (what `make cluster`, scripts/cluster.sh, sets)
# runs Temporal as the cluster of cluster/ with mTLS instead of the dev server (docs/CLUSTER.md).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MD_LOG_TAG="run"

infra_only=0
case "${1:-}" in
--infra) infra_only=1 ;;
"") ;;
*) md_die "usage: $0 [--infra]" ;;
esac

if [[ ${MD_CLUSTER:-0} == 1 ]]; then
	bash "${MD_ROOT}/scripts/install.sh" --cluster
else
	bash "${MD_ROOT}/scripts/install.sh"
fi

MD_INT_STATUS=0 # Ctrl-C is how a run ends
md_init_trap
md_profile run
state="${MADOGUCHI_DEV:-${MD_ROOT}/.dev}"
md_state_init "${state}" "${state}/bin"
if ((infra_only == 0)); then
	md_build "${MD_BIN}"
	# Fail before starting anything when a command is missing (they are written in parallel).
	for b in setup worker gateway vcard cardagent codeckey; do
		[[ -x ${MD_BIN}/${b} ]] || md_die "${MD_BIN}/${b} is missing: is there a cmd/${b} package?"
	done
fi
md_infra_start

# Each service's Prometheus metrics, on loopback (internal/metrics; MADOGUCHI_METRICS_PORT_BASE moves them).
metrics_base="${MADOGUCHI_METRICS_PORT_BASE:-9461}"
declare -A metrics_port=([worker-ca]=$((metrics_base)) [worker-municipal]=$((metrics_base + 1)) [gateway]=$((metrics_base + 2))
	[repository]=$((metrics_base + 3)) [cardagent]=$((metrics_base + 4)))

# Who each process is to the cluster's authorizer (cluster/authz); the others do not talk to Temporal.
declare -A cluster_identity=([worker-ca]=caworker [worker-municipal]=worker:municipal [gateway]=gateway [cardagent]=terminal:T0001)

# start NAME CMD... starts one of the project's binaries in the background, logging to logs/NAME.log,
# with its metrics port when it has one, supervised: a crash is logged and the process restarted with
# backoff (scripts/supervise.sh); repeated quick crashes stop everything, as Ctrl-C does.
start() {
	local name="$1"
	shift
	if [[ ${MD_CLUSTER:-0} == 1 && -n ${cluster_identity[${name}]:-} ]]; then
		# On the cluster each process shows its own certificate (lib.sh md_cluster_tls_env).
		# shellcheck disable=SC2046 # the words are NAME=VALUE pairs without spaces
		set -- env $(md_cluster_tls_env "${cluster_identity[${name}]}") "$@"
	elif [[ ${MD_CLUSTER:-0} == 1 ]]; then
		# Not a Temporal client: not the operator's certificate of the env file either.
		set -- env -u MADOGUCHI_TEMPORAL_TLS_CERT -u MADOGUCHI_TEMPORAL_TLS_KEY "$@"
	fi
	md_log "starting ${name}"
	if [[ -n ${metrics_port[${name}]:-} ]]; then
		md_require_port "${metrics_port[${name}]}" "${name} metrics"
		MADOGUCHI_METRICS_ADDR="127.0.0.1:${metrics_port[${name}]}" md_supervise "${name}" "${MD_STATE}/logs/${name}.log" "$@"
	else
		md_supervise "${name}" "${MD_STATE}/logs/${name}.log" "$@"
	fi
}

if ((infra_only == 0)); then
	# Migrations, the HSM's CA keys and the demo data; idempotent, reads the env file's variables.
	md_log "running setup (migrations, CA keys, demo data)"
	# shellcheck disable=SC2046 # NAME=VALUE words; on the cluster setup makes the Schedules as the gateway
	env $(md_cluster_tls_env gateway) "${MD_BIN}/setup" >>"${MD_STATE}/logs/setup.log" 2>&1 ||
		{
			tail -n 30 "${MD_STATE}/logs/setup.log" >&2 || true
			md_die "setup failed; see ${MD_STATE}/logs/setup.log"
		}

	# Demo verifiers (one of each type); a key is printed only when it is made, so keep it.
	(umask 077 && "${MD_BIN}/repository" verifier demo >>"${MD_STATE}/secrets/verifiers.txt" 2>>"${MD_STATE}/logs/setup.log") ||
		md_log "WARNING: could not register the demo verifiers; see ${MD_STATE}/logs/setup.log"

	md_require_port "${MD_GATEWAY_PORT}" gateway
	[[ ${MADOGUCHI_RUN_CARD:-1} == 0 ]] || md_require_port 8181 "card agent touch panel"
	# Scoped codec keyrings (docs/CODEC.md): the CA worker gets every municipality's scope and the
	# Organization's, the card agent only its municipality's; the municipal worker and the gateway keep
	# the master. Exported again at every start, so a `codeckey rotate` reaches them after a restart
	# (or export again by hand while they run).
	keys="${MD_STATE}/codec-keys"
	(umask 077 && mkdir -p "${keys}")
	"${MD_BIN}/codeckey" export -municipality "${MADOGUCHI_CA_MUNICIPALITIES:-131016,141003,141305}" -organization \
		-out "${keys}/worker-ca.key" >>"${MD_STATE}/logs/setup.log" 2>&1 || md_die "codeckey export failed; see ${MD_STATE}/logs/setup.log"
	"${MD_BIN}/codeckey" export -municipality 131016 -out "${keys}/cardagent-T0001.key" >>"${MD_STATE}/logs/setup.log" 2>&1 ||
		md_die "codeckey export failed; see ${MD_STATE}/logs/setup.log"
	MADOGUCHI_CODEC_KEY_FILE="${keys}/worker-ca.key" start worker-ca "${MD_BIN}/caworker"
	start worker-municipal "${MD_BIN}/worker"
	start gateway "${MD_BIN}/gateway"
	# The Organization's repository for verifiers: OCSP, CRLs, past daily files.
	start repository "${MD_BIN}/repository" serve
	if [[ ${MADOGUCHI_RUN_CARD:-1} != 0 ]]; then
		# The virtual card in reader 0 is the demo resident 山田 太郎's card (internal/demo).
		# It trusts the demo terminal authority that setup made (terminal-auth/, docs/CARD.md §5a), whose
		# key the card agent holds, so T0001 may reset the card's PINs.
		start vcard "${MD_BIN}/vcard" -state "${MD_STATE}/cards/C131016000001.json" -port 35963 -serial C131016000001 -expiry 20340401 \
			-terminal-authority "${MD_STATE}/terminal-auth/authority.pub"
		MADOGUCHI_CODEC_KEY_FILE="${keys}/cardagent-T0001.key" start cardagent "${MD_BIN}/cardagent" -terminal T0001 -reader "Virtual PCD 00 00" -panel 127.0.0.1:8181 \
			-sealing-keys "${MD_STATE}/sealing/131016" -terminal-key "${MD_STATE}/terminal-auth/terminal.key"
	fi
	md_wait_port "${MD_GATEWAY_PORT}" 30 || md_log "WARNING: the gateway is not listening on ${MADOGUCHI_GATEWAY_ADDR} yet; see ${MD_STATE}/logs/gateway.log"
fi

if [[ ${MD_CLUSTER:-0} == 1 ]]; then
	temporal_lines="   Temporal cluster   ${MADOGUCHI_TEMPORAL_ADDR}    (frontend; mTLS only, certificates in ${MD_STATE}/cluster/tls; no UI; docs/CLUSTER.md)"
else
	temporal_lines="   Temporal UI        ${MADOGUCHI_TEMPORAL_UI}    (payloads decoded through the gateway's /codec)
   Temporal frontend  ${MADOGUCHI_TEMPORAL_ADDR}"
fi
cat <<EOF

================================================================================================
 madoguchi is running (state ${MD_STATE}, logs in ${MD_STATE}/logs)

${temporal_lines}
   Postgres           127.0.0.1:${MD_PG_PORT}    (databases madoguchi, jlis; passwords in ${MD_STATE}/secrets)
EOF
if ((infra_only == 0)); then
	cat <<EOF
   Staff console      http://${MADOGUCHI_GATEWAY_ADDR}/console/   (sign in as clerk1, clerk2, manager1…, password madoguchi-demo)
   Staff API          http://${MADOGUCHI_GATEWAY_ADDR}/api   (gateway; health at /healthz)
   Touch panel        http://127.0.0.1:8181/   (terminal T0001, reader "Virtual PCD 00 00")
   Repository         ${MADOGUCHI_REPOSITORY_URL}/ocsp, /crl/{sign|auth}/{code}.crl   (demo verifier keys: ${MD_STATE}/secrets/verifiers.txt)
   Metrics            http://127.0.0.1:{${metrics_base}..$((metrics_base + 4))}/metrics   (CA worker, municipal worker, gateway, repository, card agent)
EOF
	cat <<EOF

 Try a procedure (in-person issuance, 第2 1(1)), in another shell:
   bash scripts/try.sh
 It logs in as the demo clerk clerk1 (password madoguchi-demo), starts an issuance for the demo
 resident 山田 太郎 at terminal T0001 (his virtual card is in the reader), records the identity
 check, and waits while you type the PINs on the touch panel http://127.0.0.1:8181/
 (signing: 6-16 upper-case letters and digits; user authentication: 4 digits).
 API by hand: POST /api/login, POST /api/procedures/inperson-issuance,
 POST /api/cases/{case}/identity-check, GET /api/cases/{case}, GET /api/cases (see README.md).
EOF
else
	cat <<EOF

 For tests by hand, in another shell:   source ${MD_STATE}/env && go test ./...
EOF
fi
cat <<EOF

 Press Ctrl-C to stop everything. Running it again reuses this state.
================================================================================================

EOF

# Wait for Ctrl-C, for the optional time limit, or for one of the processes to die.
if [[ -n ${MADOGUCHI_RUN_SECONDS:-} ]]; then
	md_log "stopping by itself after ${MADOGUCHI_RUN_SECONDS} s (MADOGUCHI_RUN_SECONDS)"
	sleep "${MADOGUCHI_RUN_SECONDS}" &
	timer=$!
	md_on_exit "kill ${timer} 2>/dev/null || true"
	MD_BG_PIDS+=("${timer}")
	MD_BG_NAMES+=(timer)
fi
set +e
wait -n -p done_pid "${MD_BG_PIDS[@]}"
rc=$?
set -e
for i in "${!MD_BG_PIDS[@]}"; do
	if [[ ${MD_BG_PIDS[i]} == "${done_pid:-}" ]]; then
		if [[ ${MD_BG_NAMES[i]} == timer ]]; then
			md_log "time is up"
			exit 0
		fi
		md_log "${MD_BG_NAMES[i]} exited (status ${rc}); last lines of its log:"
		tail -n 20 "${MD_STATE}/logs/${MD_BG_NAMES[i]}.log" >&2 || true
		exit 1
	fi
done
md_die "wait ended unexpectedly (status ${rc})"
