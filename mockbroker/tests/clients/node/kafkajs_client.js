// kafkajs against `ktrial broker`.
//
//   node kafkajs_client.js suite BOOTSTRAP
//     Admin: createTopics (then again: already there), listTopics. Producer: idempotent, one send
//     per codec kafkajs has (none, gzip, snappy through kafkajs-snappy); every partition's acked
//     base offset must continue where the previous send left it, and the admin's latest offsets
//     must equal the records sent to each partition. Consumer (group, from the beginning): every
//     record comes back exactly once, each partition's offsets contiguous from 0, and each key's
//     values in the order they were sent (one key, one partition).
//
//   node kafkajs_client.js capture BOOTSTRAP CODEC TOPIC COUNT
//     Writes COUNT records `key-<i>` = `kafkajs-<CODEC>-<i>` (i from 1) to partition 0 of TOPIC in
//     one request, for capture/wire_capture.py.
//
// Exits non-zero on any mismatch; every wait is bounded.
'use strict';

const { Kafka, CompressionTypes, CompressionCodecs, Partitioners, logLevel } = require('kafkajs');
CompressionCodecs[CompressionTypes.Snappy] = require('kafkajs-snappy');

const CODECS = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy };
const TOPIC = 'kafkajs-orders';
const PARTITIONS = 6;
const RECORDS_PER_CODEC = 300;
const TIMEOUT_MS = 30000;

function fail(message) {
  console.error(`kafkajs: ${message}`);
  process.exit(1);
}

function client(bootstrap, level = logLevel.ERROR) {
  return new Kafka({
    clientId: 'ktrial-kafkajs',
    brokers: bootstrap.split(','),
    logLevel: level,
    connectionTimeout: TIMEOUT_MS,
    requestTimeout: TIMEOUT_MS,
    retry: { retries: 3 },
  });
}

function idempotentProducer(kafka) {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

async function admin(bootstrap) {
  const spec = { topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3 }], timeout: TIMEOUT_MS };
  const admin = client(bootstrap).admin();
  await admin.connect();
  if ((await admin.createTopics(spec)) !== true) fail(`createTopics: ${TOPIC} not created`);
  const topics = await admin.listTopics();
  if (!topics.includes(TOPIC)) fail(`listTopics: ${TOPIC} missing from ${JSON.stringify(topics)}`);
  await admin.disconnect();
  // TOPIC_ALREADY_EXISTS is the expected answer here; kafkajs would log it as an error.
  const quiet = client(bootstrap, logLevel.NOTHING).admin();
  await quiet.connect();
  if ((await quiet.createTopics(spec)) !== false) fail(`createTopics again: ${TOPIC} reported as new`);
  await quiet.disconnect();
}

async function produceAll(kafka) {
  const producer = idempotentProducer(kafka);
  await producer.connect();
  const sent = new Array(PARTITIONS).fill(0);
  for (const [name, compression] of Object.entries(CODECS)) {
    const messages = [];
    for (let i = 0; i < RECORDS_PER_CODEC; i++) {
      messages.push({ key: `key-${i % 25}`, value: `${name}-value-${i}` });
    }
    const acks = await producer.send({ topic: TOPIC, compression, acks: -1, timeout: TIMEOUT_MS, messages });
    const before = sent.slice();
    for (const ack of acks) {
      if (ack.errorCode !== 0) fail(`${name}: partition ${ack.partition} error ${ack.errorCode}`);
      if (Number(ack.baseOffset) !== before[ack.partition]) {
        fail(`${name}: partition ${ack.partition} base offset ${ack.baseOffset}, expected ${before[ack.partition]}`);
      }
    }
    const latest = await kafkaOffsets(kafka);
    let added = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      added += latest[p] - sent[p];
      sent[p] = latest[p];
    }
    if (added !== RECORDS_PER_CODEC) fail(`${name}: ${added} records landed, sent ${RECORDS_PER_CODEC}`);
  }
  await producer.disconnect();
  return sent;
}

async function kafkaOffsets(kafka) {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(TOPIC);
  await admin.disconnect();
  const latest = new Array(PARTITIONS).fill(0);
  for (const o of offsets) {
    if (Number(o.low) !== 0) fail(`partition ${o.partition}: log start offset ${o.low}`);
    latest[o.partition] = Number(o.high);
  }
  return latest;
}

/** Reads `total` records through a consumer group; returns them as {partition, offset, key, value}. */
async function consumeAll(kafka, total) {
  const consumer = kafka.consumer({ groupId: 'ktrial-kafkajs', sessionTimeout: TIMEOUT_MS });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  const read = [];
  let done;
  const all = new Promise((resolve) => (done = resolve));
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      read.push({ partition, offset: Number(message.offset), key: String(message.key), value: String(message.value) });
      if (read.length >= total) done();
    },
  });
  const timer = setTimeout(() => fail(`consumer: ${read.length} of ${total} records in ${TIMEOUT_MS} ms`), TIMEOUT_MS);
  await all;
  clearTimeout(timer);
  await consumer.disconnect();
  return read;
}

function checkRead(read, landed) {
  const total = landed.reduce((a, b) => a + b, 0);
  if (read.length !== total) fail(`consumer read ${read.length} records, ${total} landed`);
  for (let p = 0; p < PARTITIONS; p++) {
    const offsets = read.filter((r) => r.partition === p).map((r) => r.offset);
    if (offsets.length !== landed[p] || offsets.some((o, i) => o !== i)) {
      fail(`partition ${p}: offsets read are not 0..${landed[p] - 1} once each, in order`);
    }
  }
  for (const name of Object.keys(CODECS)) {
    const byKey = new Map();
    for (const r of read.filter((r) => r.value.startsWith(`${name}-value-`))) {
      const i = Number(r.value.slice(`${name}-value-`.length));
      if (r.key !== `key-${i % 25}`) fail(`${r.value} came back with key ${r.key}`);
      const last = byKey.get(r.key) ?? -1;
      if (i <= last) fail(`${r.key}: ${r.value} read after ${name}-value-${last}`);
      byKey.set(r.key, i);
    }
    const count = read.filter((r) => r.value.startsWith(`${name}-value-`)).length;
    if (count !== RECORDS_PER_CODEC) fail(`${name}: read ${count} records, sent ${RECORDS_PER_CODEC}`);
  }
}

async function suite(bootstrap) {
  await admin(bootstrap);
  const kafka = client(bootstrap);
  const landed = await produceAll(kafka);
  const total = landed.reduce((a, b) => a + b, 0);
  const expected = RECORDS_PER_CODEC * Object.keys(CODECS).length;
  if (total !== expected) fail(`${total} records in ${TOPIC}, expected ${expected}`);
  checkRead(await consumeAll(kafka, total), landed);
  console.log(
    `kafkajs: createTopics, listTopics, idempotent producer (${Object.keys(CODECS).join(' ')}), ` +
      `group consumer: ${total} records acked at contiguous offsets and read back once each, in key order`,
  );
}

async function capture(bootstrap, codec, topic, count) {
  if (!(codec in CODECS)) fail(`no codec ${codec}`);
  const producer = idempotentProducer(client(bootstrap));
  await producer.connect();
  const messages = [];
  for (let i = 1; i <= count; i++) messages.push({ key: `key-${i}`, value: `kafkajs-${codec}-${i}`, partition: 0 });
  await producer.send({ topic, compression: CODECS[codec], acks: -1, timeout: TIMEOUT_MS, messages });
  await producer.disconnect();
}

async function main(argv) {
  if (argv.length === 2 && argv[0] === 'suite') return suite(argv[1]);
  if (argv.length === 5 && argv[0] === 'capture') return capture(argv[1], argv[2], argv[3], Number(argv[4]));
  fail('usage: kafkajs_client.js suite BOOTSTRAP | capture BOOTSTRAP CODEC TOPIC COUNT');
}

const watchdog = setTimeout(() => fail('did not finish in 120 s'), 120000);
main(process.argv.slice(2)).then(
  () => clearTimeout(watchdog),
  (error) => fail(error.stack || String(error)),
);
