// kafkajs consumer group against `ktrial broker`.
//
//   node kafkajs_group.js BOOTSTRAP
//
// Two consumers in group `js-group` share a 6-partition topic (3 partitions each): 1,000 records
// are each read exactly once across the two. Then one consumer leaves; the other is given all 6
// partitions and reads the 200 records that follow, each once (from the offsets the group
// committed, so nothing of the first 1,000 again). Exits non-zero on any mismatch; every wait is bounded.
'use strict';

const path = require('path');
const { Kafka, logLevel } = require(path.join(__dirname, '..', 'node', 'node_modules', 'kafkajs'));

const TOPIC = 'js-events';
const GROUP = 'js-group';
const PARTITIONS = 6;
const FIRST = 1000;
const AFTER = 200;
const TIMEOUT_MS = 60000;

function fail(message) {
  console.error(`kafkajs group: ${message}`);
  process.exit(1);
}

async function until(what, condition) {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!condition()) {
    if (Date.now() > deadline) fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// A group consumer that records what it reads (only from partitions it was given) and the
// partitions of its latest assignment.
async function member(kafka, name, reads) {
  const consumer = kafka.consumer({ groupId: GROUP, heartbeatInterval: 500, sessionTimeout: 10000 });
  const state = { name, consumer, assigned: [], joins: 0 };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    state.assigned = (e.payload.memberAssignment[TOPIC] || []).slice().sort((a, b) => a - b);
    state.joins += 1;
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      if (!state.assigned.includes(partition)) fail(`${name} read partition ${partition} it was not given`);
      reads.push({ by: name, partition, value: message.value.toString() });
    },
  });
  return state;
}

function checkOnce(reads, from, to) {
  const values = reads.map((r) => r.value);
  const unique = new Set(values);
  if (unique.size !== values.length) fail(`a record was read twice (${values.length} reads, ${unique.size} distinct)`);
  for (let i = from; i < to; i += 1) if (!unique.has(`v-${i}`)) fail(`v-${i} never read`);
  if (unique.size !== to - from) fail(`read ${unique.size} distinct records, expected ${to - from}`);
}

async function produce(producer, from, to) {
  const messages = [];
  for (let i = from; i < to; i += 1) messages.push({ partition: i % PARTITIONS, value: `v-${i}` });
  await producer.send({ topic: TOPIC, messages });
}

async function main(bootstrap) {
  const kafka = new Kafka({
    clientId: 'ktrial-kafkajs-group',
    brokers: bootstrap.split(','),
    logLevel: logLevel.ERROR,
    connectionTimeout: TIMEOUT_MS,
    requestTimeout: TIMEOUT_MS,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1 }] });
  const producer = kafka.producer();
  await producer.connect();
  await produce(producer, 0, FIRST);

  const first = [];
  // Both start together, within the broker's initial rebalance delay (Kafka's default 3 s), so
  // that the first generation already has both (`run` resolves only once a consumer has joined).
  const [a, b] = await Promise.all([member(kafka, 'a', first), member(kafka, 'b', first)]);
  await until('1,000 records across both consumers', () => first.length >= FIRST);
  await until('a 3 + 3 split', () => a.assigned.length === 3 && b.assigned.length === 3);
  const together = new Set([...a.assigned, ...b.assigned]);
  if (together.size !== PARTITIONS) fail(`assignments overlap: a ${a.assigned}, b ${b.assigned}`);
  checkOnce(first, 0, FIRST);
  const byA = first.filter((r) => r.by === 'a').length;
  if (byA === 0 || byA === FIRST) fail(`the first ${FIRST} were not shared: a read ${byA}`);

  // a leaves (LeaveGroup); b rejoins and takes every partition.
  await a.consumer.disconnect();
  await until('b takes all 6 partitions', () => b.assigned.length === PARTITIONS);
  const before = first.length;
  await produce(producer, FIRST, FIRST + AFTER);
  await until('200 more records', () => first.length - before >= AFTER);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = first.slice(before);
  if (after.some((r) => r.by !== 'b')) fail('a read after it left');
  checkOnce(after, FIRST, FIRST + AFTER);
  checkOnce(first, 0, FIRST + AFTER);

  const description = await admin.describeGroups([GROUP]);
  const group = description.groups[0];
  if (group.state !== 'Stable' || group.members.length !== 1) {
    fail(`describeGroups: ${group.state} with ${group.members.length} members`);
  }
  const offsets = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  await b.consumer.disconnect();
  await producer.disconnect();
  await admin.disconnect();
  console.log(`kafkajs group: ${FIRST} read once, ${byA} by a (${a.assigned}) and ${FIRST - byA} by b, then b alone read ${AFTER} from all ${PARTITIONS} partitions; committed ${JSON.stringify(offsets[0].partitions.map((p) => p.offset))}`);
}

if (process.argv.length !== 3) fail('usage: node kafkajs_group.js BOOTSTRAP');
main(process.argv[2]).catch((e) => fail(e.stack || String(e)));
