// The Java kafka-clients driver of ktrial (docs/drivers.md): reads the workload as one JSON object on
// stdin, produces record i (8-byte big-endian id, then '.' up to value_size; key "key-<i mod keys>" or
// null) through KafkaProducer, and prints one JSON line per delivery report, then a final line.
//
// Properties are Java's own names, handed to the producer as given: every name must be a producer
// config (ProducerConfig.configNames()) and every value must pass its ConfigDef validator, else a
// fatal line names it (the client itself would only log a warning for an unknown name).

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.AppInfoParser;

public final class Driver {
    private static final String CLIENT = "java";
    private static final PrintStream OUT = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    /** The longest the warm-up before the started line may take; then the driver carries on. */
    private static final long WARM_UP_MS = 10_000;
    private static long start;

    /** A configuration or input problem: a fatal line and exit status 2. */
    static final class Fatal extends Exception {
        final String property;
        final String in;

        Fatal(String message, String property, String in) {
            super(message);
            this.property = property;
            this.in = in;
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, Object> input;
        Properties props;
        String version = "kafka-clients " + AppInfoParser.getVersion();
        KafkaProducer<byte[], byte[]> producer;
        try {
            input = readInput();
            props = configure(input);
            try {
                producer = new KafkaProducer<>(props);
            } catch (org.apache.kafka.common.KafkaException e) {
                Throwable cause = e.getCause() != null && String.valueOf(e.getMessage()).startsWith("Failed to construct")
                    ? e.getCause() : e;
                throw new Fatal("kafka-clients: " + cause, guessProperty(String.valueOf(cause.getMessage()), input), "properties");
            }
        } catch (Fatal f) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("fatal", f.getMessage());
            line.put("property", f.property);
            line.put("in", f.in);
            emit(line);
            OUT.flush();
            System.exit(2);
            return;
        }
        run(input, props, producer, version);
        OUT.flush();
        System.exit(0);
    }

    // --- configuration -------------------------------------------------------------------------

    private static Properties configure(Map<String, Object> input) throws Fatal {
        Map<String, String> properties = stringMap(input, "properties");
        Map<String, String> nativeSettings = stringMap(input, "native");
        if (properties.containsKey("bootstrap.servers")) {
            throw new Fatal("bootstrap.servers belongs in bootstrap_servers, not in properties", "bootstrap.servers", "properties");
        }
        if (properties.containsKey("batch.num.messages")) {
            throw new Fatal("batch.num.messages: the Java producer bounds batches by bytes (batch.size), not by record count",
                "batch.num.messages", "properties");
        }
        Set<String> names = ProducerConfig.configNames();
        Map<String, String> all = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : properties.entrySet()) {
            all.put(e.getKey(), e.getValue().trim());
        }
        for (Map.Entry<String, String> e : nativeSettings.entrySet()) {
            all.put(e.getKey(), e.getValue().trim());
        }
        for (String name : all.keySet()) {
            if (!names.contains(name)) {
                String in = nativeSettings.containsKey(name) ? "native" : "properties";
                throw new Fatal(name + ": not a Java producer configuration (ProducerConfig)", name, in);
            }
        }
        Map<String, String> check = new LinkedHashMap<>(all);
        check.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, (String) input.get("bootstrap_servers"));
        check.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        check.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        for (ConfigValue value : ProducerConfig.configDef().validate(check)) {
            if (all.containsKey(value.name()) && !value.errorMessages().isEmpty()) {
                String in = nativeSettings.containsKey(value.name()) ? "native" : "properties";
                throw new Fatal(value.name() + ": " + String.join("; ", value.errorMessages()), value.name(), in);
            }
        }
        Properties props = new Properties();
        props.putAll(check);
        return props;
    }

    /** The given property the client's error message names (the longest, for "acks" vs others). */
    private static String guessProperty(String message, Map<String, Object> input) throws Fatal {
        String best = null;
        List<String> given = new ArrayList<>(stringMap(input, "properties").keySet());
        given.addAll(stringMap(input, "native").keySet());
        for (String name : given) {
            if (message.contains(name) && (best == null || name.length() > best.length())) {
                best = name;
            }
        }
        if (best == null && message.contains("idempoten") && given.contains("enable.idempotence")) {
            best = "enable.idempotence";
        }
        return best;
    }

    // --- the workload --------------------------------------------------------------------------

    private static void run(Map<String, Object> input, Properties props, KafkaProducer<byte[], byte[]> producer,
                            String version) {
        String topic = (String) input.get("topic");
        long records = number(input, "records", 0);
        long keys = number(input, "keys", 0);
        int valueSize = (int) Math.max(8, number(input, "value_size", 100));
        String mode = input.get("mode") == null ? "async" : (String) input.get("mode");
        Double rate = input.get("rate") == null ? null : ((Number) input.get("rate")).doubleValue();
        Long flushEvery = input.get("flush_every") == null ? null : ((Number) input.get("flush_every")).longValue();
        boolean acksZero = "0".equals(props.getProperty("acks"));
        long graceMs = Long.parseLong(props.getProperty("delivery.timeout.ms", "120000")) + 20_000;

        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        boolean[] reported = new boolean[(int) records];

        warmUp(producer, topic);
        start = System.nanoTime();
        Map<String, Object> started = new LinkedHashMap<>();
        started.put("event", "started");
        started.put("ms", 0);
        started.put("client", CLIENT);
        started.put("client_version", version);
        emit(started);

        long sent = 0;
        for (long id = 0; id < records; id++) {
            if (rate != null) {
                long due = start + (long) (id / rate * 1e9);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    sleepNanos(wait);
                }
            }
            byte[] value = new byte[valueSize];
            Arrays.fill(value, (byte) '.');
            ByteBuffer.wrap(value).putLong(id);
            byte[] key = keys > 0 ? ("key-" + (id % keys)).getBytes(StandardCharsets.UTF_8) : null;
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, key, value);
            final long rid = id;
            sent++;
            try {
                if ("fire-and-forget".equals(mode)) {
                    producer.send(record);
                } else {
                    Future<RecordMetadata> future = producer.send(record, (meta, error) ->
                        report(rid, meta, error, acksZero, reported, acked, failed));
                    if ("sync".equals(mode)) {
                        try {
                            future.get(graceMs, TimeUnit.MILLISECONDS);
                        } catch (ExecutionException e) {
                            // reported by the callback
                        } catch (TimeoutException e) {
                            System.err.println("driver: record " + id + " not reported within " + graceMs + " ms; stopping");
                            break;
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException e) {
                // The send call itself failed (e.g. buffer.memory full for max.block.ms).
                report(rid, null, e, acksZero, reported, acked, failed);
            }
            if (flushEvery != null && (id + 1) % flushEvery == 0) {
                boundedFlush(producer, graceMs);
                Map<String, Object> flushed = new LinkedHashMap<>();
                flushed.put("event", "flushed");
                flushed.put("sent", sent);
                flushed.put("ms", ms());
                emit(flushed);
            }
        }
        boundedFlush(producer, graceMs);
        producer.close(Duration.ofSeconds(5));
        Map<String, Object> done = new LinkedHashMap<>();
        done.put("done", true);
        done.put("sent", sent);
        done.put("acked", acked.get());
        done.put("failed", failed.get());
        done.put("ms", ms());
        done.put("client", CLIENT);
        done.put("client_version", version);
        emit(done);
    }

    private static void report(long id, RecordMetadata meta, Exception error, boolean acksZero, boolean[] reported,
                               AtomicLong acked, AtomicLong failed) {
        synchronized (reported) {
            if (reported[(int) id]) {
                System.err.println("driver: second report for record " + id + " dropped");
                return;
            }
            reported[(int) id] = true;
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("id", id);
        if (error == null) {
            acked.incrementAndGet();
            line.put("partition", meta.partition());
            line.put("offset", acksZero ? -1 : meta.offset());
        } else {
            failed.incrementAndGet();
            line.put("error", error.toString());
        }
        line.put("ms", ms());
        emit(line);
    }

    /**
     * Before the started line: the topic's partitions and their leaders (partitionsFor fetches the
     * metadata, asking for the topic to be created as a send would), so that record 0 is not held
     * up by the metadata fetch inside the first send. Bounded by WARM_UP_MS (partitionsFor itself
     * waits up to max.block.ms); a failure is logged on stderr and the driver carries on. Java has
     * no call that opens a connection: the sender connects to a leader once a batch for it is
     * ready.
     */
    private static void warmUp(KafkaProducer<byte[], byte[]> producer, String topic) {
        long begin = System.nanoTime();
        Thread warm = new Thread(() -> {
            try {
                List<PartitionInfo> partitions = producer.partitionsFor(topic);
                TreeSet<Integer> leaders = new TreeSet<>();
                for (PartitionInfo p : partitions) {
                    leaders.add(p.leader() == null ? -1 : p.leader().id());
                }
                System.err.printf("driver: warm-up: %s: %d partition(s), leaders %s in %.1f ms%n", topic,
                    partitions.size(), leaders, (System.nanoTime() - begin) / 1e6);
            } catch (RuntimeException e) {
                System.err.println("driver: warm-up: partitionsFor(" + topic + "): " + e);
            }
        }, "driver-warm-up");
        warm.setDaemon(true);
        warm.start();
        try {
            warm.join(WARM_UP_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (warm.isAlive()) {
            System.err.println("driver: warm-up: no metadata for " + topic + " within " + WARM_UP_MS + " ms; carrying on");
        }
    }

    /** flush() has no timeout of its own: run it in a thread and stop waiting after grace. */
    private static void boundedFlush(KafkaProducer<byte[], byte[]> producer, long graceMs) {
        Thread flusher = new Thread(producer::flush, "driver-flush");
        flusher.setDaemon(true);
        flusher.start();
        try {
            flusher.join(graceMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (flusher.isAlive()) {
            System.err.println("driver: flush did not return within " + graceMs + " ms");
        }
    }

    private static void sleepNanos(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static double ms() {
        return Math.round((System.nanoTime() - start) / 1000.0) / 1000.0;
    }

    // --- input ---------------------------------------------------------------------------------

    private static final Set<String> FIELDS = new HashSet<>(Arrays.asList("bootstrap_servers", "topic", "records", "keys",
        "value_size", "mode", "rate", "flush_every", "properties", "native"));

    @SuppressWarnings("unchecked")
    private static Map<String, Object> readInput() throws Fatal, IOException {
        InputStream in = System.in;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        in.transferTo(buffer);
        Object parsed;
        try {
            Json json = new Json(buffer.toString(StandardCharsets.UTF_8));
            parsed = json.value();
            json.end();
        } catch (IllegalArgumentException e) {
            throw new Fatal("input: " + e.getMessage(), null, "input");
        }
        if (!(parsed instanceof Map)) {
            throw new Fatal("input: expected one JSON object", null, "input");
        }
        Map<String, Object> input = (Map<String, Object>) parsed;
        for (String field : input.keySet()) {
            if (!FIELDS.contains(field)) {
                throw new Fatal("input: unknown field " + field, null, "input");
            }
        }
        if (!(input.get("bootstrap_servers") instanceof String) || !(input.get("topic") instanceof String)) {
            throw new Fatal("input: bootstrap_servers and topic are required strings", null, "input");
        }
        Object mode = input.get("mode");
        if (mode != null && !Arrays.asList("sync", "async", "fire-and-forget").contains(mode)) {
            throw new Fatal("input: mode " + mode + " is not sync, async or fire-and-forget", null, "input");
        }
        for (String field : Arrays.asList("records", "keys", "value_size", "flush_every", "rate")) {
            Object v = input.get(field);
            if (v != null && (!(v instanceof Number) || ((Number) v).doubleValue() < 0)) {
                throw new Fatal("input: " + field + " must be a non-negative number", null, "input");
            }
        }
        if (input.get("records") == null) {
            throw new Fatal("input: records is required", null, "input");
        }
        if (input.get("rate") != null && ((Number) input.get("rate")).doubleValue() <= 0) {
            throw new Fatal("input: rate must be > 0", null, "input");
        }
        if (input.get("flush_every") != null && ((Number) input.get("flush_every")).longValue() <= 0) {
            throw new Fatal("input: flush_every must be > 0", null, "input");
        }
        stringMap(input, "properties");
        stringMap(input, "native");
        return input;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> stringMap(Map<String, Object> input, String field) throws Fatal {
        Object v = input.get(field);
        if (v == null) {
            return new LinkedHashMap<>();
        }
        if (!(v instanceof Map)) {
            throw new Fatal("input: " + field + " must be an object", null, "input");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : ((Map<String, Object>) v).entrySet()) {
            if (!(e.getValue() instanceof String)) {
                throw new Fatal(e.getKey() + ": values are strings", e.getKey(), field);
            }
            out.put(e.getKey(), (String) e.getValue());
        }
        return out;
    }

    private static long number(Map<String, Object> input, String field, long dflt) {
        Object v = input.get(field);
        return v == null ? dflt : ((Number) v).longValue();
    }

    // --- output --------------------------------------------------------------------------------

    private static synchronized void emit(Map<String, Object> line) {
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, Object> e : line.entrySet()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            quote(sb, e.getKey());
            sb.append(':');
            Object v = e.getValue();
            if (v == null) {
                sb.append("null");
            } else if (v instanceof String) {
                quote(sb, (String) v);
            } else {
                sb.append(v);
            }
        }
        sb.append("}\n");
        OUT.print(sb);
        OUT.flush();
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** Just enough JSON for the input: objects, arrays, strings, numbers, true/false/null. */
    static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        void end() {
            space();
            if (i != s.length()) {
                throw new IllegalArgumentException("trailing characters at " + i);
            }
        }

        Object value() {
            space();
            if (i >= s.length()) {
                throw new IllegalArgumentException("unexpected end of input");
            }
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                i++;
                space();
                if (peek('}')) {
                    i++;
                    return m;
                }
                while (true) {
                    space();
                    String k = string();
                    space();
                    expect(':');
                    m.put(k, value());
                    space();
                    if (peek(',')) {
                        i++;
                    } else {
                        expect('}');
                        return m;
                    }
                }
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                i++;
                space();
                if (peek(']')) {
                    i++;
                    return l;
                }
                while (true) {
                    l.add(value());
                    space();
                    if (peek(',')) {
                        i++;
                    } else {
                        expect(']');
                        return l;
                    }
                }
            }
            if (c == '"') {
                return string();
            }
            if (s.startsWith("true", i)) {
                i += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("false", i)) {
                i += 5;
                return Boolean.FALSE;
            }
            if (s.startsWith("null", i)) {
                i += 4;
                return null;
            }
            int from = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            String num = s.substring(from, i);
            try {
                if (num.contains(".") || num.contains("e") || num.contains("E")) {
                    return Double.parseDouble(num);
                }
                return Long.parseLong(num);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad value at " + from);
            }
        }

        private String string() {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (i >= s.length()) {
                    throw new IllegalArgumentException("unterminated string");
                }
                char c = s.charAt(i++);
                if (c == '"') {
                    return sb.toString();
                }
                if (c == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n' -> sb.append('\n');
                        case 't' -> sb.append('\t');
                        case 'r' -> sb.append('\r');
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'u' -> {
                            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                        }
                        default -> sb.append(e);
                    }
                } else {
                    sb.append(c);
                }
            }
        }

        private void space() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private boolean peek(char c) {
            return i < s.length() && s.charAt(i) == c;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw new IllegalArgumentException("expected '" + c + "' at " + i);
            }
            i++;
        }
    }
}
