#!/usr/bin/env bash
# try.sh — drive one in-person issuance (第2 1(1)) through the gateway of a running `make run`.
# The only human step left to you is the applicant's: typing the PINs on the touch panel.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${MADOGUCHI_DEV:-${root}/.dev}"
[[ -f ${state}/env ]] || { echo "no ${state}/env: start the back office first with 'make run'" >&2; exit 1; }
# shellcheck disable=SC1091
source "${state}/env"
gw="http://${MADOGUCHI_GATEWAY_ADDR}"
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }

token=$(curl -sf -X POST "${gw}/api/login" -H 'Content-Type: application/json' \
	-d '{"login":"clerk1","password":"madoguchi-demo"}' | json "['token']")
auth=(-H "Authorization: Bearer ${token}" -H 'Content-Type: application/json')
echo "logged in as clerk1"

case_number=$(curl -sf -X POST "${gw}/api/procedures/inperson-issuance" "${auth[@]}" -d '{
  "terminalId": "T0001",
  "application": {"residentCode": "00000000011", "name": "山田 太郎", "birthDate": "1980-04-01", "sex": "male",
                  "address": "東京都千代田区千代田1番1号", "signing": true, "userAuth": true}}' | json "['caseNumber']")
echo "started case ${case_number}"

curl -sf -X POST "${gw}/api/cases/${case_number}/identity-check" "${auth[@]}" \
	-d '{"documentType":"individual_number_card","verified":true}' >/dev/null
echo "identity check recorded (individual number card)"

echo "now type the PINs on the touch panel: http://127.0.0.1:8181/  (waiting up to 10 minutes)"
for _ in $(seq 1 600); do
	step=$(curl -sf "${gw}/api/cases/${case_number}" "${auth[@]}" | json "['step']")
	case "${step}" in
	done | rejected | lapsed) break ;;
	esac
	sleep 1
done
curl -sf "${gw}/api/cases/${case_number}" "${auth[@]}" | python3 -m json.tool
