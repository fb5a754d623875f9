// The kafkajs driver of ktrial (docs/drivers.md).
//
// Reads the workload as one JSON object on stdin, produces record i (8-byte big-endian id, then '.'
// up to value_size; key "key-<i mod keys>" or null) with one producer.send() per record, and prints
// one JSON line per delivery report on stdout, then a final line. kafkajs has no accumulator: each
// send() is its own Produce request, sent at once (linger.ms=0 is the only linger it can express),
// and it has no flush(): flush_every and the end wait for every outstanding send().
//
// The modules are compat/node's (kafkajs 2.2.4, kafkajs-snappy, kafkajs-lz4): one npm ci for both.
'use strict';

const path = require('path');
const { createRequire } = require('module');

const compatRequire = createRequire(path.join(__dirname, '..', '..', 'compat', 'node', 'package.json'));

const FIELDS = new Set(['bootstrap_servers', 'topic', 'records', 'keys', 'value_size', 'mode', 'rate',
  'flush_every', 'properties', 'native']);

// Portable properties kafkajs has no setting for.
const CANNOT = {
  'batch.size': 'kafkajs has no batch size: each send() call is one batch in its own Produce request',
  'batch.num.messages': 'kafkajs has no batch record limit: each send() call is one batch in its own Produce request',
  'max.request.size': 'kafkajs has no request size limit',
  'delivery.timeout.ms': 'kafkajs has no delivery timeout (a send fails after retry.retries retries)',
};

// The longest the warm-up before the started line may take; then the driver carries on.
const WARM_UP_MS = 10000;

const start = process.hrtime.bigint();
let t0 = start;
const ms = () => Math.round(Number(process.hrtime.bigint() - t0) / 1000) / 1000;
const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

class Fatal extends Error {
  constructor(message, property = null, where = 'properties') {
    super(message);
    this.property = property;
    this.where = where;
  }
}

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function parseInput(raw) {
  let data;
  try {
    data = JSON.parse(raw);
  } catch (e) {
    throw new Fatal(`input: ${e.message}`, null, 'input');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new Fatal('input: expected one JSON object', null, 'input');
  for (const k of Object.keys(data)) if (!FIELDS.has(k)) throw new Fatal(`input: unknown field ${k}`, null, 'input');
  if (typeof data.bootstrap_servers !== 'string' || typeof data.topic !== 'string') {
    throw new Fatal('input: bootstrap_servers and topic are required strings', null, 'input');
  }
  if (!Number.isInteger(data.records) || data.records < 0) throw new Fatal('input: records is required, an integer >= 0', null, 'input');
  data.keys = data.keys ?? 0;
  data.value_size = data.value_size ?? 100;
  data.mode = data.mode ?? 'async';
  if (!['sync', 'async', 'fire-and-forget'].includes(data.mode)) {
    throw new Fatal(`input: mode ${JSON.stringify(data.mode)} is not sync, async or fire-and-forget`, null, 'input');
  }
  if (data.rate != null && !(data.rate > 0)) throw new Fatal('input: rate must be > 0', null, 'input');
  if (data.flush_every != null && !(data.flush_every > 0)) throw new Fatal('input: flush_every must be > 0', null, 'input');
  for (const field of ['properties', 'native']) {
    const m = data[field] ?? {};
    if (typeof m !== 'object' || Array.isArray(m)) throw new Fatal(`input: ${field} must be an object`, null, 'input');
    for (const [k, v] of Object.entries(m)) if (typeof v !== 'string') throw new Fatal(`${k}: values are strings`, k, field);
    data[field] = m;
  }
  return data;
}

function int(name, text, where, min = 0) {
  const t = text.trim();
  if (!/^-?\d+$/.test(t) || Number(t) < min) throw new Fatal(`${name}=${JSON.stringify(text)}: expected an integer >= ${min}`, name, where);
  return Number(t);
}

function bool(name, text, where) {
  const t = text.trim().toLowerCase();
  if (t !== 'true' && t !== 'false') throw new Fatal(`${name}=${JSON.stringify(text)}: expected true or false`, name, where);
  return t === 'true';
}

// The kafkajs settings: client config, producer config, send() options.
function configure(data, kafkajs) {
  const { CompressionTypes, Partitioners, logLevel } = kafkajs;
  const client = { brokers: data.bootstrap_servers.split(',').map((s) => s.trim()).filter(Boolean) };
  const producer = { createPartitioner: Partitioners.DefaultPartitioner };
  const retry = {};
  const send = {};
  const p = data.properties;
  if ('bootstrap.servers' in p) throw new Fatal('bootstrap.servers belongs in bootstrap_servers, not in properties', 'bootstrap.servers');
  for (const [name, text] of Object.entries(p)) {
    const v = text.trim();
    if (name in CANNOT) throw new Fatal(`${name}: ${CANNOT[name]}`, name);
    switch (name) {
      case 'acks': {
        const acks = { 0: 0, 1: 1, '-1': -1, all: -1 }[v];
        if (acks === undefined) throw new Fatal(`acks=${JSON.stringify(text)}: expected all, -1, 0 or 1`, name);
        send.acks = acks;
        break;
      }
      case 'linger.ms':
        if (int(name, v, 'properties') !== 0) {
          throw new Fatal(`linger.ms=${v}: kafkajs has no linger (each send() is sent at once); only linger.ms=0 can be expressed`, name);
        }
        break;
      case 'max.in.flight.requests.per.connection': producer.maxInFlightRequests = int(name, v, 'properties', 1); break;
      case 'retries': retry.retries = int(name, v, 'properties'); break;
      case 'retry.backoff.ms': retry.initialRetryTime = int(name, v, 'properties'); break;
      case 'retry.backoff.max.ms': retry.maxRetryTime = int(name, v, 'properties'); break;
      case 'enable.idempotence': producer.idempotent = bool(name, v, 'properties'); break;
      case 'compression.type': {
        const codec = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4 }[v];
        if (codec === undefined) {
          throw new Fatal(v === 'zstd'
            ? 'compression.type=zstd: kafkajs needs a zstd codec plugin, and none builds here'
            : `compression.type=${JSON.stringify(text)}: expected none, gzip, snappy or lz4`, name);
        }
        send.compression = codec;
        break;
      }
      case 'request.timeout.ms': {
        const ms = int(name, v, 'properties', 1);
        client.requestTimeout = ms;
        send.timeout = ms;
        break;
      }
      case 'client.id': client.clientId = v; break;
      default:
        throw new Fatal(`${name}: not a property the kafkajs driver maps (docs/drivers.md); kafkajs options go in native`, name);
    }
  }
  const partitioners = { default: Partitioners.DefaultPartitioner, legacy: Partitioners.LegacyPartitioner };
  const levels = { nothing: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG };
  for (const [name, text] of Object.entries(data.native)) {
    const v = text.trim();
    switch (name) {
      case 'requestTimeout': case 'connectionTimeout': case 'authenticationTimeout':
        client[name] = int(name, v, 'native', 1); break;
      case 'enforceRequestTimeout': client[name] = bool(name, v, 'native'); break;
      case 'logLevel':
        if (!(v in levels)) throw new Fatal(`logLevel=${JSON.stringify(text)}: expected nothing, error, warn, info or debug`, name, 'native');
        client.logLevel = levels[v];
        break;
      case 'maxInFlightRequests': case 'metadataMaxAge': producer[name] = int(name, v, 'native', 1); break;
      case 'idempotent': case 'allowAutoTopicCreation': producer[name] = bool(name, v, 'native'); break;
      case 'partitioner':
        if (!(v in partitioners)) throw new Fatal(`partitioner=${JSON.stringify(text)}: expected default or legacy`, name, 'native');
        producer.createPartitioner = partitioners[v];
        break;
      case 'retry.retries': case 'retry.initialRetryTime': case 'retry.maxRetryTime':
        retry[name.slice(6)] = int(name, v, 'native'); break;
      case 'retry.factor': case 'retry.multiplier': {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) throw new Fatal(`${name}=${JSON.stringify(text)}: expected a number >= 0`, name, 'native');
        retry[name.slice(6)] = n;
        break;
      }
      case 'acks': send.acks = int(name, v, 'native', -1); break;
      case 'timeout': send.timeout = int(name, v, 'native', 1); break;
      default:
        throw new Fatal(`${name}: not a kafkajs setting this driver knows (docs/drivers.md lists them)`, name, 'native');
    }
  }
  if (Object.keys(retry).length) producer.retry = retry;
  // kafkajs's own rule (messageProducer.js), checked before anything is sent.
  if (producer.idempotent && send.acks !== undefined && send.acks !== -1) {
    throw new Fatal("kafkajs: Not requiring ack for all messages invalidates the idempotent producer's EoS guarantees",
      'acks', 'acks' in p ? 'properties' : 'native');
  }
  return { client, producer, send };
}

// Logs to stderr: kafkajs's console logger writes INFO to stdout, which is the report channel.
const stderrLogger = () => ({ namespace, label, log }) => {
  process.stderr.write(`kafkajs ${label} [${namespace}] ${log.message} ${JSON.stringify(log)}\n`);
};

// The Cluster kafka.producer() creates for its producer (kafkajs keeps it private, under the
// Kafka object's 'private:Kafka:createCluster' symbol): the warm-up asks that cluster, the one
// send() uses, for the topic's metadata and leaders. A function that returns it once created
// (null if kafkajs's internals moved).
function captureProducerCluster(kafka) {
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  let cluster = null;
  if (key && typeof kafka[key] === 'function') {
    const create = kafka[key];
    kafka[key] = (options) => {
      cluster = create(options);
      return cluster;
    };
  }
  return () => cluster;
}

// Before the started line, so that record 0 leaves at once: what the producer's first send() does
// before its Produce request — the topic's metadata (cluster.addTargetTopic, asking for the topic to
// be created), asked again while a partition has no leader (a topic just auto-created), and a
// connection to each partition's leader (cluster.findBroker connects it, ApiVersions included).
// Bounded by WARM_UP_MS; a failure is logged on stderr and the driver carries on.
async function warmUp(cluster, topic) {
  const begin = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - begin) / 1e6;
  if (!cluster) {
    process.stderr.write('driver: warm-up: no producer cluster (kafkajs internals moved?); carrying on\n');
    return;
  }
  const work = (async () => {
    await cluster.addTargetTopic(topic);
    let partitions = cluster.findTopicPartitionMetadata(topic);
    while (partitions.length === 0 || partitions.some((p) => p.leader < 0)) {
      if (elapsed() + 50 >= WARM_UP_MS) throw new Error(`${topic}: a partition has no leader`);
      await sleep(50);
      await cluster.refreshMetadata();
      partitions = cluster.findTopicPartitionMetadata(topic);
    }
    const leaders = [...new Set(partitions.map((p) => p.leader))].sort((a, b) => a - b);
    await Promise.all(leaders.map((nodeId) => cluster.findBroker({ nodeId })));
    return `${topic}: ${partitions.length} partition(s), leaders [${leaders.join(', ')}] connected`;
  })();
  let timer;
  const outcome = await Promise.race([
    work.then((what) => ({ what }), (error) => ({ error })),
    new Promise((resolve) => { timer = setTimeout(() => resolve({ error: `not done within ${WARM_UP_MS} ms` }), WARM_UP_MS); }),
  ]).finally(() => clearTimeout(timer));
  if (outcome.error) {
    process.stderr.write(`driver: warm-up: ${typeof outcome.error === 'string' ? outcome.error : errorText(outcome.error)}; carrying on\n`);
  } else {
    process.stderr.write(`driver: warm-up: ${outcome.what} in ${elapsed().toFixed(1)} ms\n`);
  }
}

const sleep = (msDelay) => new Promise((resolve) => setTimeout(resolve, msDelay));
const errorText = (e) => (e && e.name ? `${e.name}: ${e.message}` : String(e));

async function main() {
  let kafkajs;
  try {
    kafkajs = compatRequire('kafkajs');
    kafkajs.CompressionCodecs[kafkajs.CompressionTypes.Snappy] = compatRequire('kafkajs-snappy');
    const LZ4Codec = compatRequire('kafkajs-lz4');
    kafkajs.CompressionCodecs[kafkajs.CompressionTypes.LZ4] = new LZ4Codec().codec;
  } catch (e) {
    emit({ fatal: `kafkajs not installed (drivers/install.sh): ${e.message}`, property: null, in: 'client' });
    return 1;
  }
  const version = `kafkajs ${compatRequire('kafkajs/package.json').version}`;
  let data;
  let settings;
  let producer;
  let producerCluster = () => null;
  try {
    data = parseInput(await readStdin());
    settings = configure(data, kafkajs);
    const kafka = new kafkajs.Kafka({ logLevel: kafkajs.logLevel.WARN, ...settings.client, logCreator: stderrLogger });
    producerCluster = captureProducerCluster(kafka);
    try {
      producer = kafka.producer(settings.producer);
    } catch (e) {
      // e.g. "Idempotent producer must allow retries to protect against transient errors"
      throw new Fatal(`kafkajs: ${errorText(e)}`, /retries/.test(e.message) ? 'retries' : null);
    }
  } catch (e) {
    if (e instanceof Fatal) {
      emit({ fatal: e.message, property: e.property, in: e.where });
      return 2;
    }
    throw e;
  }
  try {
    await producer.connect();
  } catch (e) {
    emit({ fatal: `kafkajs: connect: ${errorText(e)}`, property: null, in: 'client' });
    return 1;
  }

  const acksZero = settings.send.acks === 0;
  const grace = 120000 + 20000;
  const { topic, records, keys, mode, rate } = data;
  const flushEvery = data.flush_every;
  const valueSize = Math.max(8, data.value_size);
  const reported = new Set();
  let acked = 0;
  let failed = 0;
  const outstanding = new Set();

  const report = (id, meta, error) => {
    if (reported.has(id)) {
      process.stderr.write(`driver: second report for record ${id} dropped\n`);
      return;
    }
    reported.add(id);
    if (error) {
      failed += 1;
      emit({ id, error: errorText(error), ms: ms() });
    } else {
      acked += 1;
      const m = (meta && meta[0]) || {};
      const partition = m.partition ?? -1;
      emit({ id, partition, offset: acksZero || m.baseOffset === undefined ? -1 : Number(m.baseOffset), ms: ms() });
    }
  };
  const withDeadline = (promise, limit) => {
    let timer;
    return Promise.race([promise.then(() => true), new Promise((resolve) => { timer = setTimeout(() => resolve(false), limit); })])
      .finally(() => clearTimeout(timer));
  };
  const flush = async () => {
    if (!(await withDeadline(Promise.allSettled([...outstanding]), grace))) {
      process.stderr.write(`driver: outstanding sends not settled within ${grace} ms\n`);
    }
  };

  await warmUp(producerCluster(), topic);
  t0 = process.hrtime.bigint();
  emit({ event: 'started', ms: 0, client: 'kafkajs', client_version: version });
  let sent = 0;
  const filler = Buffer.alloc(valueSize - 8, '.');
  for (let id = 0; id < records; id += 1) {
    if (rate != null) {
      const wait = (id / rate) * 1000 - ms();
      if (wait > 0) await sleep(wait);
    }
    const value = Buffer.concat([Buffer.alloc(8), filler]);
    value.writeBigUInt64BE(BigInt(id));
    const message = { key: keys > 0 ? `key-${id % keys}` : null, value };
    sent += 1;
    const promise = producer.send({ topic, messages: [message], ...settings.send });
    if (mode === 'fire-and-forget') {
      const tracked = promise.catch(() => {}).finally(() => outstanding.delete(tracked));
      outstanding.add(tracked);
    } else {
      const tracked = promise.then((meta) => report(id, meta), (e) => report(id, null, e))
        .finally(() => outstanding.delete(tracked));
      outstanding.add(tracked);
      if (mode === 'sync' && !(await withDeadline(tracked, grace))) {
        process.stderr.write(`driver: record ${id} not reported within ${grace} ms; stopping\n`);
        break;
      }
    }
    if (mode !== 'sync') await new Promise(setImmediate); // let the event loop write and read
    if (flushEvery != null && (id + 1) % flushEvery === 0) {
      await flush();
      emit({ event: 'flushed', sent, ms: ms() });
    }
  }
  await flush();
  await withDeadline(producer.disconnect(), 5000);
  emit({ done: true, sent, acked, failed, ms: ms(), client: 'kafkajs', client_version: version });
  return 0;
}

// Exit at once: a timer kafkajs leaves behind must not keep the process alive (stdout to a pipe is
// synchronous on Linux, so every line is out).
main().then((code) => process.exit(code), (e) => {
  emit({ fatal: `driver: ${e && e.stack ? e.stack : e}`, property: null, in: 'client' });
  process.exit(1);
});
