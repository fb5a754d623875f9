// kafkajs as a client of the ktrial compatibility matrix (compat/run.sh).
//
// Produces keyed records with acks=all and reads them back up to each partition's high watermark,
// then verifies them. kafkajs has no consumer without a group, so it reads through a consumer group
// of its own (a fresh group id per run, from the earliest offset). The record layout and the JSON
// result lines are the ones every client program follows (compat/README.md).
//
// usage: node compat.js BOOTSTRAP TOPIC_PREFIX CODEC [plain|idempotent]
'use strict';

const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs');
const SnappyCodec = require('kafkajs-snappy');
const LZ4Codec = require('kafkajs-lz4');
const kafkajsVersion = require('kafkajs/package.json').version;

const DEADLINE_MS = 30000;
const KEYS = 8;
// gzip is built in; other codecs are plugins: snappy's is pure JavaScript, lz4's a native module.
// zstd's plugin (@kafkajs/zstd, native cppzst) does not build here, so zstd is unsupported.
CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec;
const CODECS = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
};

const key = (i) => `key-${i % KEYS}`;
const value = (topic, i) => `${topic}:${i}:${'x'.repeat(64)}`;

function withDeadline(promise, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

async function produce(kafka, topic, codec, idempotent, records) {
  const producer = kafka.producer({ idempotent, maxInFlightRequests: idempotent ? 1 : undefined });
  await producer.connect();
  try {
    const messages = [];
    for (let i = 0; i < records; i++) messages.push({ key: key(i), value: value(topic, i) });
    await producer.send({ topic, messages, acks: -1, compression: CODECS[codec], timeout: DEADLINE_MS });
  } finally {
    await producer.disconnect();
  }
}

async function consume(kafka, topic, runId) {
  const admin = kafka.admin();
  await admin.connect();
  let ends;
  try {
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const remaining = new Map();
  for (const { partition, high } of ends) if (Number(high) > 0) remaining.set(partition, Number(high));
  const received = [];
  if (remaining.size === 0) return received;
  const consumer = kafka.consumer({ groupId: `ktrial-compat-${runId}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise((resolve, reject) => {
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            received.push([partition, String(message.key ?? ''), String(message.value ?? '')]);
            if (remaining.has(partition) && Number(message.offset) + 1 >= remaining.get(partition)) {
              remaining.delete(partition);
              if (remaining.size === 0) resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
}

// Count, content, no duplicates, and the order of each key's records in its partition.
function verify(topic, records, received) {
  if (received.length !== records) throw new Error(`read ${received.length} records, produced ${records}`);
  const seen = new Set();
  const lastOfKey = new Map();
  for (const [partition, keyRead, valueRead] of received) {
    const field = valueRead.split(':')[1];
    const index = /^[0-9]+$/.test(field ?? '') ? Number(field) : -1;
    if (index < 0 || index >= records) throw new Error(`unexpected value ${JSON.stringify(valueRead)}`);
    if (valueRead !== value(topic, index) || keyRead !== key(index)) {
      throw new Error(`record ${index} altered: key ${JSON.stringify(keyRead)}`);
    }
    if (seen.has(index)) throw new Error(`record ${index} read twice`);
    seen.add(index);
    const previous = lastOfKey.get(keyRead);
    if (previous && (previous[0] !== partition || previous[1] > index)) {
      throw new Error(
        `key ${keyRead}: record ${index} (partition ${partition}) after ${previous[1]} (partition ${previous[0]})`,
      );
    }
    lastOfKey.set(keyRead, [partition, index]);
  }
}

function report(check, codec, idempotent, records, started, result, detail = '') {
  const line = {
    client: 'kafkajs',
    client_version: kafkajsVersion,
    check,
    codec,
    idempotent,
    result,
    records,
    ms: Date.now() - started,
    detail,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function runCheck(check, codec, idempotent, records, action) {
  const started = Date.now();
  try {
    await withDeadline(action(), check);
  } catch (error) {
    report(check, codec, idempotent, records, started, 'fail', `${error.name}: ${error.message}`);
    return false;
  }
  report(check, codec, idempotent, records, started, 'pass');
  return true;
}

async function main() {
  const [bootstrap, prefix, codec, mode = 'plain'] = process.argv.slice(2);
  if (!codec) {
    process.stderr.write('usage: node compat.js BOOTSTRAP TOPIC_PREFIX CODEC [plain|idempotent]\n');
    return 2;
  }
  const idempotent = mode === 'idempotent';
  const records = Number(process.env.COMPAT_RECORDS ?? 1000);
  const topic = `${prefix}-${codec}-${mode}`;
  if (!(codec in CODECS)) {
    for (const check of ['produce', 'consume']) {
      report(check, codec, idempotent, records, Date.now(), 'unsupported', `no ${codec} codec plugin installed`);
    }
    return 0;
  }
  const kafka = new Kafka({
    clientId: 'ktrial-compat',
    brokers: bootstrap.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 5 },
  });
  if (!(await runCheck('produce', codec, idempotent, records, () => produce(kafka, topic, codec, idempotent, records)))) {
    report('consume', codec, idempotent, records, Date.now(), 'fail', 'not run: produce failed');
    return 1;
  }
  const consumed = await runCheck('consume', codec, idempotent, records, async () =>
    verify(topic, records, await consume(kafka, topic, `${prefix}-${codec}-${mode}`)),
  );
  return consumed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  },
);
