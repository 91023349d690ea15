#!/usr/bin/env bash
# cluster.sh — the Temporal cluster of cluster/ (docs/CLUSTER.md): the real server at the CLI's
# embedded version, frontend, history, matching and worker as four processes on loopback, on the
# project's Postgres, mTLS with a local CA, and our authorizer.
#
#   scripts/cluster.sh          `make cluster`: the whole back office as `make run` starts it, on
#                               the cluster instead of the dev server (state <repo>/.dev, reused)
#   scripts/cluster.sh --check  the cluster stage of the tests: a fresh state .dev/cluster-XXXXXX,
#                               the authorization tests (tests/cluster) and the integration tests
#                               (MADOGUCHI_CLUSTER_TEST_RUN) against the cluster; removed when green
#
# Environment: MADOGUCHI_CLUSTER_TEST_RUN (a go test -run pattern over tests/integration; default
# all but the Temporal UI's test), MADOGUCHI_CLUSTER_PORT_BASE (default 7280: the nine
# ports 7280–7288), MADOGUCHI_KEEP_STATE=1, CI=true (a skipped test fails the check).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MD_LOG_TAG="cluster"

# The integration tests that run against the cluster: all of them but the Temporal UI's, which
# the dev server's CLI serves and the cluster has not (docs/CLUSTER.md). The whole suite passed on
# the cluster in about 5 minutes here.
MD_CLUSTER_TEST_RUN_DEFAULT='.'
MD_CLUSTER_TEST_SKIP='^TestTemporalUIDecodesForOwnManagerOnly$'

case "${1:-}" in
"")
	export MD_CLUSTER=1
	exec bash "${MD_ROOT}/scripts/run.sh"
	;;
--check) ;;
*) md_die "usage: $0 [--check]" ;;
esac

started=${SECONDS}
state=""
summary=""
# shellcheck disable=SC2317 # called indirectly, by the EXIT trap
finish() {
	local rc="$1" took
	took="$(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s"
	if [[ -n ${state} && -d ${state} ]]; then
		if [[ ${rc} -eq 0 && -z ${MADOGUCHI_KEEP_STATE:-} ]]; then
			rm -rf "${state}"
		else
			md_log "state and logs kept in ${state}"
		fi
	fi
	if [[ ${rc} -eq 0 ]]; then md_log "PASS — cluster stage ${took}"; else md_log "FAIL (status ${rc}) — cluster stage ${took}"; fi
	[[ -z ${summary} ]] || echo "${summary}"
}
MD_ON_EXIT_HOOK=finish
export MD_CLUSTER=1
md_init_trap
bash "${MD_ROOT}/scripts/install.sh" --cluster
cd "${MD_ROOT}"
md_profile cluster
mkdir -p "${MD_ROOT}/.dev"
state="$(mktemp -d "${MD_ROOT}/.dev/cluster-XXXXXX")"
md_state_init "${state}" "${state}/bin"
md_build "${MD_BIN}"
md_infra_start

export MADOGUCHI_INTEGRATION=1
log="${MD_STATE}/logs/go-test.log"
: >"${log}"
set +e
# The cluster module's own tests (authz.Decide's table, the CA): its own module, so not in ./...
md_log "cluster/: go vet ./... and go test ./..."
(cd "${MD_ROOT}/cluster" && GOFLAGS="${GOFLAGS:-} -mod=mod" go vet ./... &&
	GOFLAGS="${GOFLAGS:-} -mod=mod" go test -count=1 -v ./...) 2>&1 | tee -a "${log}"
rc=${PIPESTATUS[0]}
md_log "go test ./tests/cluster/ (the authorizer, by identity)"
go test -count=1 -timeout 10m -v ./tests/cluster/ 2>&1 | tee -a "${log}"
rc2=${PIPESTATUS[0]}
((rc == 0)) && rc=${rc2}
pattern="${MADOGUCHI_CLUSTER_TEST_RUN:-${MD_CLUSTER_TEST_RUN_DEFAULT}}"
md_log "go test -run '${pattern}' -skip '${MD_CLUSTER_TEST_SKIP}' ./tests/integration/ (on the cluster)"
go test -count=1 -timeout "${MADOGUCHI_TEST_TIMEOUT:-30m}" -v -run "${pattern}" -skip "${MD_CLUSTER_TEST_SKIP}" ./tests/integration/ 2>&1 | tee -a "${log}"
rc2=${PIPESTATUS[0]}
((rc == 0)) && rc=${rc2}
set -e
passed=$(grep -cE '^[[:space:]]*--- PASS' "${log}" || true)
failed=$(grep -cE '^[[:space:]]*--- FAIL' "${log}" || true)
skipped=$(grep -cE '^[[:space:]]*--- SKIP' "${log}" || true)
grep -E '^[[:space:]]*--- (FAIL|SKIP)' "${log}" | sed 's/^[[:space:]]*/  /' || true
# The authorization tests must have run: a stage that ran none of them proves nothing.
if ! grep -qE '^--- PASS: TestTerminalCertificateDoesOnlyItsOwnWork' "${log}"; then
	md_log "the authorization test did not pass"
	((rc != 0)) || rc=1
fi
summary="cluster tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [[ ${CI:-} == true ]] && ((skipped > 0)); then
	summary="${summary}; CI=true: skips fail the run"
	((rc != 0)) || rc=1
fi
exit "${rc}"
