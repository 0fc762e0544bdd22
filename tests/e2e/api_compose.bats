#!/usr/bin/env bats
# api_compose.bats — docker-compose 1.29.2 (Debian's, through docker-py 5.0.3 and the docker
# CLI) drives berth's Engine API unmodified (issue #13): up -d, ps, logs, exec, down -v on a
# three-service application with a user network, a named volume, depends_on with a
# healthcheck and a published port, and the application works end to end.
load helpers
load lib/api
bats_require_minimum_version 1.5.0

setup_file() {
        command -v docker-compose >/dev/null || return 0
        api_setup_file
}

teardown_file() {
        [ "$(id -u)" = 0 ] || return 0
        if command -v docker-compose >/dev/null && [ -n "${DOCKER_HOST:-}" ]; then
                APP_PORT=1 docker-compose -p berthct -f "$BERTH_TOP/tests/e2e/compose/three-tier.yml" \
                        down -v >/dev/null 2>&1 || true
        fi
        api_teardown_file
}

setup() {
        api_setup docker-compose docker curl
        export COMPOSE_FILE="$BERTH_TOP/tests/e2e/compose/three-tier.yml" COMPOSE_PROJECT_NAME=berthct
        if [ ! -f "$BATS_FILE_TMPDIR/port" ]; then
                free_port >"$BATS_FILE_TMPDIR/port"
        fi
        APP_PORT=$(cat "$BATS_FILE_TMPDIR/port")
        export APP_PORT
}

@test "compose up -d: db healthy first, then app and worker; the host reaches app, app reaches db by name" {
        run docker-compose up -d
        assert_success
        # depends_on: service_healthy made compose wait for db's health
        run "$BERTH" inspect -f '{{.State.Health.Status}}' berthct_db_1
        [ "$output" = healthy ]
        local i body=""
        for i in $(seq 60); do
                body=$(curl -s -m 2 "http://127.0.0.1:$APP_PORT/" || true)
                [ "$body" = hello-from-db ] && break
                sleep 0.5
        done
        [ "$body" = hello-from-db ]
}

@test "compose ps lists the three services Up, with the published port" {
        run docker-compose ps
        assert_success
        assert_output_contains "berthct_app_1"
        assert_output_contains "berthct_db_1"
        assert_output_contains "berthct_worker_1"
        assert_output_contains "127.0.0.1:$APP_PORT->80/tcp"
        [ "$(echo "$output" | grep -c ' Up')" -eq 3 ]
        # the same containers through berth's own CLI: the service keeps no state of its own
        run "$BERTH" ps --filter label=com.docker.compose.project=berthct --format '{{.Names}}'
        [ "$(echo "$output" | sort | tr '\n' ' ')" = "berthct_app_1 berthct_db_1 berthct_worker_1 " ]
}

@test "compose logs and exec (through the docker CLI, and through docker-py)" {
        run docker-compose exec -T db cat /data/index.html
        assert_success
        [ "$output" = hello-from-db ]
        COMPOSE_INTERACTIVE_NO_CLI=1 run docker-compose exec -T worker sh -c 'echo from-worker'
        assert_success
        assert_output_contains from-worker
        run docker-compose exec -T worker sh -c 'exit 4'
        [ "$status" -eq 4 ]
        run docker-compose logs --no-color app
        assert_success
        assert_output_contains "app_1"
}

@test "compose down -v removes containers, the network and the named volume" {
        run docker-compose down -v
        assert_success
        run "$BERTH" ps -a --filter label=com.docker.compose.project=berthct -q
        [ -z "$output" ]
        run "$BERTH" network ls --format '{{.Name}}'
        refute_output_contains berthct_backend
        run "$BERTH" volume ls --format '{{.Name}}'
        refute_output_contains berthct_dbdata
}
