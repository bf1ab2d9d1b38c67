#!/usr/bin/env bash
# TLS end to end (issue 15): a private CA made with openssl; the controller serves HTTPS only
# (--tls-cert/--tls-key), each agent serves its logs over HTTPS with its own certificate and
# verifies the controller with --ca-file; the CLI verifies with ZS_CA_FILE. A job's logs come
# from its agent over TLS. Plain HTTP to a TLS port is refused; a CLI without the CA fails with
# a certificate error, never falling back to plain HTTP; plain-HTTP clients never load libssl.
# Usage: live_tls.sh path/to/zs   (CTest runs it from the project root)
set -u
source "$(dirname "$0")/live_common.bash"
cd "$W" || exit 1
command -v openssl >/dev/null || { note "no openssl command: nothing to test"; finish; }

# ---- a private CA and certificates (what docs/security-tls.md tells an operator to do) -------
section "certificates"
P=$W/pki
mkdir -p "$P"
(umask 077
 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
   -subj "/CN=zs test CA" -keyout "$P/ca.key" -out "$P/ca.crt" 2>/dev/null
 for name in controller node1 node2; do
   openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
     -keyout "$P/$name.key" -out "$P/$name.csr" 2>/dev/null
   printf 'subjectAltName=IP:127.0.0.1\n' >"$P/$name.ext"
   openssl x509 -req -in "$P/$name.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial \
     -days 2 -extfile "$P/$name.ext" -out "$P/$name.crt" 2>/dev/null
 done)
[ -s "$P/controller.crt" ] && [ -s "$P/node2.crt" ] && ok "a CA and three certificates for 127.0.0.1" ||
  { fail "openssl could not make the certificates"; finish; }

# A key others may read is refused, with the chmod that fixes it.
cp "$P/controller.key" "$P/open.key"
chmod 644 "$P/open.key"
out=$("$ZS" controller --listen 127.0.0.1:0 --state-dir "$W/refused" --tls-cert "$P/controller.crt" \
  --tls-key "$P/open.key" 2>&1)
rc=$?
[ $rc = 2 ] && grep -q "chmod 600 $P/open.key" <<<"$out" &&
  ok "zs controller refuses a world-readable key: $(head -1 <<<"$out")" ||
  fail "a world-readable key: exit $rc: $out"

# ---- the cluster, TLS everywhere ------------------------------------------------------------
section "controller and agents over TLS"
TLS_CA=$P/ca.crt
export ZS_CA_FILE=$P/ca.crt  # the CLI (zs admin node-token create, then the user's commands)
CTL_ARGS=(--heartbeat-ms 200 --node-lost-ms 3000 --tls-cert "$P/controller.crt"
  --tls-key "$P/controller.key" --agents-ca-file "$P/ca.crt")
if ! start_controller; then fail "controller did not start over TLS"; finish; fi
[[ $URL == https://127.0.0.1:* ]] && ok "the controller serves $URL" || fail "controller URL: $URL"
agent_tls_args() { echo "--tls-cert $P/$1.crt --tls-key $P/$1.key --ca-file $P/ca.crt"; }
start_agent node1
start_agent node2
if wait_until 30 nodes_up 2; then ok "two agents sync with the controller over TLS"; else
  fail "agents did not come up: $(tail -3 "$W"/agent.node1.log)"
  finish
fi
logs_url=$(api_value /api/v1/nodes 'd["nodes"][0]["logs_url"]')
[[ $logs_url == https://127.0.0.1:* ]] && ok "agents report https:// log servers ($logs_url)" ||
  fail "logs_url: '$logs_url'"

section "submit and logs through the CLI, verified with ZS_CA_FILE"
id=$("$ZS" submit --parsable --accel "$T:1" -- sh -c 'echo secret-line-1; echo secret-line-2')
[[ $id =~ ^[0-9]+$ ]] && ok "zs submit over https: job $id" || { fail "zs submit: '$id'"; finish; }
wait_until 30 job_ended "$id"
[ "$(job_state "$id")" = completed ] && ok "job $id completed" || fail "job $id: $(job_state "$id")"
got=$("$ZS" logs "$id" 2>&1)
[ "$got" = $'secret-line-1\nsecret-line-2' ] &&
  ok "zs logs $id: the controller fetched the output from the agent over TLS" ||
  fail "zs logs $id: $(tr '\n' '|' <<<"$got")"
"$ZS" queue >/dev/null 2>&1 && ok "zs queue over https" || fail "zs queue: $("$ZS" queue 2>&1)"
out=$(ZS_CA_FILE= "$ZS" queue --ca-file "$P/ca.crt" 2>&1) && ok "zs queue --ca-file" ||
  fail "zs queue --ca-file: $out"

section "refusals"
# Plain HTTP to the controller's TLS port: refused (400 in plain text), never served.
body=$(command curl -s --max-time 10 -H "Authorization: Bearer $ZS_TOKEN" "http://127.0.0.1:$PORT/api/v1/jobs")
grep -q "HTTPS only" <<<"$body" && ! grep -q secret <<<"$body" && ! grep -q '"jobs"' <<<"$body" &&
  ok "plain http:// to the controller's TLS port is refused: $(head -c 120 <<<"$body")" ||
  fail "plain http to the TLS port: $(head -c 300 <<<"$body")"
out=$("$ZS" queue --controller "http://127.0.0.1:$PORT" 2>&1)
rc=$?
[ $rc != 0 ] && grep -qi "https" <<<"$out" && ok "zs queue with http:// to the TLS port fails: $out" ||
  fail "zs queue http:// to the TLS port: exit $rc: $out"
# Plain HTTP to an agent's TLS log server.
agent_http=${logs_url/https:/http:}
body=$(command curl -s --max-time 10 "$agent_http/api/v1/attempts/$id.1/log")
grep -q "HTTPS only" <<<"$body" && ! grep -q secret <<<"$body" &&
  ok "plain http:// to an agent's TLS log server is refused" || fail "agent over plain http: $body"
# A CLI that does not know the CA: a certificate error naming the URL, no fallback.
out=$(ZS_CA_FILE= "$ZS" queue 2>&1)
rc=$?
[ $rc != 0 ] && grep -q "certificate verify failed" <<<"$out" && grep -q "$URL" <<<"$out" &&
  ok "a CLI without the CA fails: $out" || fail "a CLI without the CA: exit $rc: $out"
# The wrong CA (a certificate that is not a CA of this cluster).
out=$(ZS_CA_FILE=$P/node1.crt "$ZS" submit --accel "$T:1" -- true 2>&1)
rc=$?
[ $rc != 0 ] && grep -q "certificate verify failed" <<<"$out" &&
  ok "zs submit with the wrong CA fails: $(head -c 160 <<<"$out")" ||
  fail "zs submit with the wrong CA: exit $rc: $out"
# The controller's host name is checked too: localhost is not in its certificate.
out=$("$ZS" queue --controller "https://localhost:$PORT" 2>&1)
rc=$?
[ $rc != 0 ] && grep -q "mismatch" <<<"$out" && ok "a host name the certificate lacks fails: $out" ||
  fail "https://localhost (not in the certificate): exit $rc: $out"
# The listener is fine after all that.
"$ZS" queue >/dev/null 2>&1 && ok "the controller still serves" || fail "the controller stopped serving"

section "the controller verifies the agents' log servers"
# Restarted with a CA that did not sign the agents' certificates: no logs, and the reason.
kill -9 "$CTL"
CTL_ARGS=(--heartbeat-ms 200 --node-lost-ms 3000 --tls-cert "$P/controller.crt"
  --tls-key "$P/controller.key" --agents-ca-file "$P/node1.crt")
if ! start_controller; then fail "controller did not restart"; finish; fi
wait_until 30 nodes_up 2 || fail "agents did not come back"
hdrs=$(curl -s -D - -o "$W/body" "$URL/api/v1/jobs/$id/logs")
grep -i '^X-ZS-Log-Error:' <<<"$hdrs" | grep -q "certificate verify failed" &&
  ! grep -q secret "$W/body" &&
  ok "a log server the controller cannot verify gives no logs: $(grep -i '^X-ZS-Log-Error' <<<"$hdrs" | head -c 200)" ||
  fail "logs from an unverified agent: $(tr '\r\n' '  ' <<<"$hdrs" | head -c 400) body $(head -c 100 "$W/body")"

section "cost: plain http never loads libssl"
out=$(LD_DEBUG=files "$ZS" queue --controller http://127.0.0.1:1 2>&1)
! grep -q "libssl.so" <<<"$out" && ok "zs queue against http:// does not load libssl" ||
  fail "zs queue http:// loaded libssl: $(grep libssl <<<"$out" | head -2)"
out=$(LD_DEBUG=files "$ZS" queue 2>&1)
grep -q "libssl.so" <<<"$out" && ok "zs queue against https:// loads libssl (the check above can see it)" ||
  fail "no libssl seen for https: the check above proves nothing"

finish
