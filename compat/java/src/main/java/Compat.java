import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.AppInfoParser;

/**
 * Java kafka-clients as a client of the ktrial compatibility matrix: produces keyed records with
 * acks=all, reads them back by partition assignment (no group) from the beginning up to each
 * partition's end offset, and verifies them. The record layout and the JSON result lines are the
 * ones every client program follows (compat/README.md).
 *
 * <p>usage: Compat BOOTSTRAP TOPIC_PREFIX CODEC [plain|idempotent]
 */
public final class Compat {
    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);
    private static final int KEYS = 8;

    private final String bootstrap;
    private final String codec;
    private final boolean idempotent;
    private final int records;
    private final String topic;

    private Compat(String bootstrap, String codec, boolean idempotent, int records, String topic) {
        this.bootstrap = bootstrap;
        this.codec = codec;
        this.idempotent = idempotent;
        this.records = records;
        this.topic = topic;
    }

    private record Received(int partition, String key, String value) {}

    static String key(int i) {
        return "key-" + (i % KEYS);
    }

    static String value(String topic, int i) {
        return topic + ":" + i + ":" + "x".repeat(64);
    }

    private void produce() throws Exception {
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, Boolean.toString(idempotent));
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        // delivery.timeout.ms must cover linger.ms + request.timeout.ms.
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) DEADLINE.toMillis() / 3);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) DEADLINE.toMillis());
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) DEADLINE.toMillis() / 2);
        KafkaProducer<String, String> producer =
                new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
        try {
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (int i = 0; i < records; i++) {
                Future<RecordMetadata> ack = producer.send(new ProducerRecord<>(topic, key(i), value(topic, i)));
                // send() turns a metadata timeout (max.block.ms) into a failed future: stop at the
                // first one rather than wait max.block.ms for each record.
                if (ack.isDone()) {
                    ack.get();
                }
                acks.add(ack);
            }
            // Not flush(): it waits without a bound when the broker never answers.
            for (Future<RecordMetadata> ack : acks) {
                ack.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } finally {
            producer.close(CLOSE_TIMEOUT);
        }
    }

    private List<Received> consume() {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.CHECK_CRCS_CONFIG, "true");
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<Received> received = new ArrayList<>();
        KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer());
        try {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(topic, DEADLINE)) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
            Map<TopicPartition, Long> remaining = new HashMap<>();
            consumer.endOffsets(partitions, DEADLINE).forEach((partition, end) -> {
                if (end > 0) {
                    remaining.put(partition, end);
                }
            });
            consumer.assign(remaining.keySet());
            consumer.seekToBeginning(remaining.keySet());
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (!remaining.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("read " + received.size()
                            + " records, partitions not read to their end: " + remaining);
                }
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    received.add(new Received(record.partition(), record.key(), record.value()));
                    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
                    Long end = remaining.get(partition);
                    if (end != null && record.offset() + 1 >= end) {
                        remaining.remove(partition);
                    }
                }
            }
        } finally {
            consumer.close(CLOSE_TIMEOUT);
        }
        return received;
    }

    /** Count, content, no duplicates, and the order of each key's records in its partition. */
    private void verify(List<Received> received) {
        if (received.size() != records) {
            throw new IllegalStateException("read " + received.size() + " records, produced " + records);
        }
        boolean[] seen = new boolean[records];
        Map<String, int[]> lastOfKey = new TreeMap<>();
        for (Received r : received) {
            String[] fields = r.value() == null ? new String[0] : r.value().split(":");
            int index = fields.length > 2 && fields[1].matches("[0-9]{1,9}") ? Integer.parseInt(fields[1]) : -1;
            if (index < 0 || index >= records) {
                throw new IllegalStateException("unexpected value " + r.value());
            }
            if (!r.value().equals(value(topic, index)) || !key(index).equals(r.key())) {
                throw new IllegalStateException("record " + index + " altered: key " + r.key());
            }
            if (seen[index]) {
                throw new IllegalStateException("record " + index + " read twice");
            }
            seen[index] = true;
            int[] previous = lastOfKey.put(r.key(), new int[] {r.partition(), index});
            if (previous != null && (previous[0] != r.partition() || previous[1] > index)) {
                throw new IllegalStateException("key " + r.key() + ": record " + index + " (partition "
                        + r.partition() + ") after " + previous[1] + " (partition " + previous[0] + ")");
            }
        }
    }

    private static String json(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    private void report(String check, String result, long startedNanos, String detail) {
        System.out.println("{\"client\":\"java\",\"client_version\":" + json("kafka-clients " + AppInfoParser.getVersion())
                + ",\"check\":" + json(check) + ",\"codec\":" + json(codec) + ",\"idempotent\":" + idempotent
                + ",\"result\":" + json(result) + ",\"records\":" + records
                + ",\"ms\":" + (System.nanoTime() - startedNanos) / 1_000_000 + ",\"detail\":" + json(detail) + "}");
    }

    private static String describe(Throwable error) {
        Throwable cause = error.getCause() != null ? error.getCause() : error;
        return cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }

    private boolean run() {
        long started = System.nanoTime();
        try {
            produce();
        } catch (Exception error) {
            report("produce", "fail", started, describe(error));
            report("consume", "fail", System.nanoTime(), "not run: produce failed");
            return false;
        }
        report("produce", "pass", started, "");
        started = System.nanoTime();
        try {
            verify(consume());
        } catch (RuntimeException error) {
            report("consume", "fail", started, describe(error));
            return false;
        }
        report("consume", "pass", started, "");
        return true;
    }

    public static void main(String[] args) {
        if (args.length < 3 || args.length > 4) {
            System.err.println("usage: Compat BOOTSTRAP TOPIC_PREFIX CODEC [plain|idempotent]");
            System.exit(2);
        }
        String mode = args.length == 4 ? args[3] : "plain";
        String count = System.getenv("COMPAT_RECORDS");
        int records = count == null ? 1000 : Integer.parseInt(count);
        String topic = args[1] + "-" + args[2] + "-" + mode;
        Compat compat = new Compat(args[0], args[2], mode.equals("idempotent"), records, topic);
        System.exit(compat.run() ? 0 : 1);
    }
}
