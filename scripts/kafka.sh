#!/usr/bin/env bash
# A real Apache Kafka broker for development, tests and CI: one combined broker/controller in
# KRaft mode on 127.0.0.1, fetched from Maven Central with Maven into .cache/kafka (git ignores it).
#
#   scripts/kafka.sh start    fetch (first time), format storage (first time), start, wait ready
#   scripts/kafka.sh stop     stop the broker started here (by its pid file)
#   scripts/kafka.sh status   exit 0 and print the bootstrap address when the broker answers
#   scripts/kafka.sh reset    stop and delete the broker's data (keeps the downloaded jars)
#
# Environment: KAFKA_VERSION (default below), CORRAL_KAFKA_PORT (19092), CORRAL_KAFKA_HOME
# (.cache/kafka). Idempotent: start on a running broker and stop on a stopped one do nothing.
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
PORT="${CORRAL_KAFKA_PORT:-19092}"
CONTROLLER_PORT="${CORRAL_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HOME_DIR="${CORRAL_KAFKA_HOME:-$ROOT/.cache/kafka}"
LIB="$HOME_DIR/lib-$KAFKA_VERSION"
DATA="$HOME_DIR/data-$PORT"
CONF="$HOME_DIR/server-$PORT.properties"
LOG4J="$HOME_DIR/log4j2.yaml"
PIDFILE="$HOME_DIR/broker-$PORT.pid"
LOGFILE="$HOME_DIR/broker-$PORT.log"
BOOTSTRAP="127.0.0.1:$PORT"

log() { echo "kafka.sh: $*" >&2; }

fetch() {
    [[ -f "$LIB/.complete" ]] && return 0
    command -v mvn >/dev/null || { log "mvn is required (apt-get install maven)"; exit 1; }
    command -v java >/dev/null || { log "java 17+ is required (apt-get install openjdk-17-jre-headless)"; exit 1; }
    log "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its runtime dependencies with Maven"
    local work="$HOME_DIR/fetch-$KAFKA_VERSION"
    mkdir -p "$work"
    # kafka_2.13 pulls the broker, controller, storage and clients; kafka-tools has the admin
    # commands used for the ready check; log4j-core with the slf4j2 bridge is the logging backend
    # the distribution ships (runtime scope there, so named here).
    cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>corral.dev</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.17</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
POM
    rm -rf "$LIB.partial"
    mvn -B -q -f "$work/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$LIB.partial" >"$work/mvn.log" 2>&1 || {
        log "maven failed; see $work/mvn.log"; tail -20 "$work/mvn.log" >&2; exit 1; }
    # A half-fetched folder is never used: it is renamed only once complete.
    rm -rf "$LIB"
    mv "$LIB.partial" "$LIB"
    touch "$LIB/.complete"
}

write_config() {
    mkdir -p "$HOME_DIR"
    cat >"$CONF" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA
num.partitions=4
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=24
log.segment.bytes=268435456
PROPS
    cat >"$LOG4J" <<'YAML'
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        Pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: org.apache.kafka.coordinator
        level: WARN
YAML
}

# Kafka's own launcher (kafka-run-class.sh) runs G1 with a 20 ms pause goal; the JVM's default
# goal (200 ms) lets a young collection stall every produce and fetch for tens of milliseconds.
BROKER_GC_OPTS="-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent"

java_cmd() {
    # Bounded heap: the broker shares a 2-core machine with the tests.
    java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$LOG4J" -cp "$LIB/*" "$@"
}

running_pid() {
    [[ -f "$PIDFILE" ]] || return 1
    local pid; pid="$(cat "$PIDFILE")"
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

# Ready means the broker answers a metadata request (so it has a controller and a listener).
probe() {
    # Cheap TCP probe first (no JVM start), then a real metadata request.
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || return 1
    java_cmd org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --list >/dev/null 2>&1
}

start() {
    # Concurrent starts (parallel test processes) queue here instead of racing to format and
    # launch; the broker itself does not inherit the lock (9>&- below).
    mkdir -p "$HOME_DIR"
    exec 9>"$HOME_DIR/start-$PORT.lock"
    flock -w 300 9 || { log "another start has held $HOME_DIR/start-$PORT.lock for 300 s"; exit 1; }
    if running_pid >/dev/null && probe; then
        log "already running at $BOOTSTRAP"; echo "$BOOTSTRAP"; return 0
    fi
    fetch
    write_config
    if [[ ! -f "$DATA/meta.properties" ]]; then
        log "formatting storage in $DATA"
        java_cmd kafka.tools.StorageTool format --standalone -t "$(java_cmd kafka.tools.StorageTool random-uuid)" \
            -c "$CONF" >>"$LOGFILE" 2>&1 || {
            # Older 4.x without --standalone for a static quorum.
            java_cmd kafka.tools.StorageTool format -t "$(java_cmd kafka.tools.StorageTool random-uuid)" \
                -c "$CONF" >>"$LOGFILE" 2>&1 || { log "storage format failed; see $LOGFILE"; exit 1; }
        }
    fi
    log "starting broker on $BOOTSTRAP (log: $LOGFILE)"
    # shellcheck disable=SC2086
    nohup java -Xms256m -Xmx1g $BROKER_GC_OPTS -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$LOG4J" -cp "$LIB/*" kafka.Kafka "$CONF" >>"$LOGFILE" 2>&1 </dev/null 9>&- &
    echo $! >"$PIDFILE"
    local deadline=$((SECONDS + 120))
    until probe; do
        if ! running_pid >/dev/null; then
            log "broker exited during start; last lines of $LOGFILE:"; tail -30 "$LOGFILE" >&2; exit 1
        fi
        if ((SECONDS > deadline)); then log "broker not ready after 120 s; see $LOGFILE"; exit 1; fi
        sleep 1
    done
    log "ready at $BOOTSTRAP"
    echo "$BOOTSTRAP"
}

stop() {
    local pid
    if ! pid="$(running_pid)"; then rm -f "$PIDFILE"; log "not running"; return 0; fi
    log "stopping broker (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; return 0; }
        sleep 1
    done
    log "broker did not stop in 60 s; killing"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
}

status() {
    if running_pid >/dev/null && probe; then echo "$BOOTSTRAP"; return 0; fi
    log "not running"; return 1
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    reset) stop; rm -rf "$DATA" ;;
    fetch) fetch ;;
    *) echo "usage: $0 start|stop|status|reset|fetch" >&2; exit 2 ;;
esac
