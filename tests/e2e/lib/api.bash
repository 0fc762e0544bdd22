# api.bash — the Engine API tests' shared setup: one `berth system service` per test file on a
# private socket and private state, and `dk`, the docker CLI pointed at it.
#
#   load helpers
#   load lib/api
#   setup_file() { api_setup_file; }
#   teardown_file() { api_teardown_file; }
#   setup() { api_setup docker curl; }       # the commands the tests need, if any
#   teardown() { api_teardown; }             # where tests leave containers behind

api_env() {
        export API_SOCK="$BATS_FILE_TMPDIR/docker.sock"
        export DOCKER_HOST="unix://$API_SOCK"
        # a private docker config: no credential helpers or contexts of the host's user
        export DOCKER_CONFIG="$BATS_FILE_TMPDIR/docker-config"
        mkdir -p "$DOCKER_CONFIG"
}

api_service_start() {
        [ "$(id -u)" = 0 ] || return 0
        berth_private_state
        api_env
        "$BERTH" system service -H "unix://$API_SOCK" "$@" \
                >"$BATS_FILE_TMPDIR/service.log" 2>&1 &
        echo $! >"$BATS_FILE_TMPDIR/service.pid"
        local i
        for i in $(seq 100); do
                curl -sf --unix-socket "$API_SOCK" http://d/_ping >/dev/null 2>&1 && return 0
                sleep 0.05
        done
        echo "berth system service did not answer on $API_SOCK:" >&2
        cat "$BATS_FILE_TMPDIR/service.log" >&2
        return 1
}

api_service_stop() {
        [ -f "$BATS_FILE_TMPDIR/service.pid" ] || return 0
        kill "$(cat "$BATS_FILE_TMPDIR/service.pid")" 2>/dev/null
        rm -f "$BATS_FILE_TMPDIR/service.pid"
        return 0
}

# The docker CLI against berth's socket.
dk() {
        docker "$@"
}

# curl against berth's socket: api_curl [curl args] PATH
api_curl() {
        local path="${*: -1}"
        curl -s --unix-socket "$API_SOCK" "${@:1:$#-1}" "http://d$path"
}

# setup_file: the busybox image on the file's private state, and the service on it (as root;
# nothing otherwise, and each test skips).  Arguments go to `berth system service`.
api_setup_file() {
        [ "$(id -u)" = 0 ] || return 0
        berth_busybox_setup_file
        api_service_start "$@"
}

# teardown_file: remove what containers are left, then stop the service.
api_teardown_file() {
        [ "$(id -u)" = 0 ] && berth_private_state
        berth_rm_all_containers
        api_service_stop
}

# setup: root, the busybox image and the service's environment; skips without the commands
# named.
api_setup() {
        berth_busybox_setup
        [ $# -eq 0 ] || require_cmd "$@"
        api_env
}

# teardown: remove the test's containers (those `ps -a` selects with the filters given).
api_teardown() {
        berth_rm_all_containers "$@"
}
