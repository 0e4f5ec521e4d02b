#!/usr/bin/env bash
# A mobile app's session against Tidemark, step by step with curl: register, log in, upload a
# recording, wait for its prediction by long-poll and by the event stream, refresh the token,
# log out. Run it against `./scripts/dev.sh` (default http://127.0.0.1:8080):
#
#   examples/mobile_client.sh [BASE_URL]
#
# Needs curl and python3 (for reading JSON). Every step prints what it sent and what came back.
set -euo pipefail
base=${1:-http://127.0.0.1:8080}
user="phone-$(date +%s)-$RANDOM"
password="correct horse battery"

step() { printf '\n== %s\n' "$*"; }
field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d" + sys.argv[1]))' "$1"; }

step "1. register $user (POST /auth/register)"
registered=$(curl -sS -X POST "$base/auth/register" -H 'Content-Type: application/json' \
  -d "{\"username\":\"$user\",\"email\":\"$user@example.com\",\"password\":\"$password\"}")
echo "$registered" | field '["message"]'

step "2. log in (POST /auth/login): an access token, a refresh token and a session"
login=$(curl -sS -X POST "$base/auth/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"$user\",\"password\":\"$password\"}")
access=$(echo "$login" | field '["access_token"]')
refresh=$(echo "$login" | field '["refresh_token"]')
session=$(echo "$login" | field '["session_id"]')
echo "session $session, token ${access:0:16}…"
auth=(-H "Authorization: Bearer $access")

step "3. upload a recording with its metadata (POST /recordings, multipart)"
recording="rec-$RANDOM$RANDOM"
sensor='{"x":[0.1,0.4,0.9,0.3],"y":[1,1,2,3],"z":[9.8,9.7,9.9,9.8]}'
created=$(curl -sS -X POST "$base/recordings" "${auth[@]}" \
  -F "metadata={\"recording_id\":\"$recording\",\"recording_type\":\"sensor\",\"user_id\":\"$user\"};type=application/json" \
  -F "content=$sensor;type=application/json")
echo "$created" | field '["recording_id"]'
job=$(echo "$created" | field '["job"]["job_id"]')
echo "job $job submitted to $(echo "$created" | field '["job"]["algo_id"]')"

step "4. wait for the result by long-poll (GET /jobs/$job?wait=20)"
result=$(curl -sS "$base/jobs/$job?wait=20" "${auth[@]}")
echo "status $(echo "$result" | field '["status"]'): $(echo "$result" | field '["result"]')"

step "5. the same result pushed: the caller's job updates as Server-Sent Events (GET /stream)"
curl -sS "$base/stream?wait=2" "${auth[@]}" | grep -E '^(id|event):' | tail -4

step "6. one call for a synchronous client (POST /predict?recording_type=sensor)"
predicted=$(curl -sS -X POST "$base/predict?recording_type=sensor&wait=20" "${auth[@]}" \
  -H 'Content-Type: application/json' --data "$sensor")
echo "status $(echo "$predicted" | field '["status"]'), mean x $(echo "$predicted" | field '["result"]["channels"]["x"]["mean"]')"

step "7. refresh the access token (POST /auth/refresh): the refresh token rotates"
refreshed=$(curl -sS -X POST "$base/auth/refresh" -H 'Content-Type: application/json' \
  -d "{\"refresh_token\":\"$refresh\"}")
access=$(echo "$refreshed" | field '["access_token"]')
echo "new token ${access:0:16}…"
curl -sS "$base/me" -H "Authorization: Bearer $access" | field '["username"]'

step "8. log out (POST /auth/logout): the session's tokens stop working at once"
curl -sS -o /dev/null -w 'logout: %{http_code}\n' -X POST "$base/auth/logout" \
  -H "Authorization: Bearer $access" -H 'Content-Type: application/json' \
  -d "{\"session-id\":\"$session\"}"
curl -sS -o /dev/null -w 'GET /me afterwards: %{http_code}\n' "$base/me" \
  -H "Authorization: Bearer $access"
