#!/bin/sh
# Runs a Kafka main class on the image's jars.
exec java $KAFKA_HEAP_OPTS -Djava.awt.headless=true -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.yaml \
  -cp '/opt/kafka/libs/*' "$@"
