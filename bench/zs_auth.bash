# Sourced by the benchmarks: tokens for a controller they started (docs/security.md).
# AUTH=tokens (default: the controller authenticates; agents get node credentials) or
# AUTH=open (the controller runs with --insecure-no-auth).
AUTH=${AUTH:-tokens}
# Flags for `zs controller` in this mode.
zs_auth_controller_args() { [ "$AUTH" = open ] && echo --insecure-no-auth; true; }
# After the controller answers: ZS_TOKEN from STATE_DIR/admin.token (none in open mode).
zs_auth_use_admin() {  # $1 = state dir
  if [ -s "$1/admin.token" ]; then export ZS_TOKEN; ZS_TOKEN=$(cat "$1/admin.token"); else unset ZS_TOKEN; fi
}
# Agent flags with a node credential for node $1, kept in file $2 (nothing in open mode).
zs_auth_agent_args() {
  [ -n "${ZS_TOKEN:-}" ] || return 0
  (umask 077 && "$ZS" admin node-token create "$1" >"$2") && echo "--token-file $2"
}
