// Node clients of the peers for bench/: a PouchDB client (memory adapter) replicating
// with pouchdb-server, and an RxDB client (memory storage) using replicateServer.
// Usage: node client.js '<json job>'   -> prints one JSON line {"times": [...ms], ...}
// Every run starts from a fresh local database; the first `warmup` runs are discarded.
'use strict';
const fs = require('fs');
const PouchDB = require('pouchdb-core')
  .plugin(require('pouchdb-adapter-http'))
  .plugin(require('pouchdb-adapter-memory'))
  .plugin(require('pouchdb-replication'));
const { createRxDatabase } = require('rxdb');
const { getRxStorageMemory } = require('rxdb/plugins/storage-memory');
const { replicateServer } = require('rxdb-server/plugins/replication-server');
const { visitSchema } = require('./schema.js');

const now = () => Number(process.hrtime.bigint()) / 1e6;
let uniq = 0;

function readDocs(file, prefix) {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
    const doc = JSON.parse(line);
    doc.id = prefix + doc.id;
    return doc;
  });
}

async function pouchPull(job) {
  const local = new PouchDB(`pull-${process.pid}-${uniq++}`, { adapter: 'memory' });
  const t0 = now();
  const res = await PouchDB.replicate(job.url, local, { batch_size: job.batch });
  const ms = now() - t0;
  const info = await local.info();
  await local.destroy();
  if (!res.ok || info.doc_count !== job.expect) throw new Error(`pouch pull got ${info.doc_count}, want ${job.expect}`);
  return { ms };
}

async function pouchPush(job, run) {
  // A fresh remote database per run so every push is 1,000 new documents.
  const remoteUrl = `${job.url}-${run}`;
  const remote = new PouchDB(remoteUrl);
  await remote.info(); // creates it
  const local = new PouchDB(`push-${process.pid}-${uniq++}`, { adapter: 'memory' });
  const docs = readDocs(job.file, '').map(({ id, ...rest }) => ({ _id: id, ...rest }));
  await local.bulkDocs(docs);
  let t0 = now();
  await PouchDB.replicate(local, remote, { batch_size: job.batch });
  const createMs = now() - t0;
  // 1,000 field updates: change `notes` of every document, then push them.
  const all = await local.allDocs({ include_docs: true });
  await local.bulkDocs(all.rows.map((r) => ({ ...r.doc, notes: r.doc.notes + ' 已更新' })));
  t0 = now();
  await PouchDB.replicate(local, remote, { batch_size: job.batch });
  const updateMs = now() - t0;
  const info = await remote.info();
  if (info.doc_count !== docs.length) throw new Error(`pouch push: remote has ${info.doc_count}`);
  await local.destroy();
  await remote.destroy();
  return { ms: createMs, update_ms: updateMs };
}

async function rxClientDb() {
  const db = await createRxDatabase({ name: `client${process.pid}x${uniq++}`, storage: getRxStorageMemory(), multiInstance: false });
  await db.addCollections({ visits: { schema: visitSchema } });
  return db;
}

function rxReplicate(db, job, pull, push) {
  return replicateServer({
    collection: db.visits,
    replicationIdentifier: `bench-${job.url}`,
    url: job.url,
    live: false,
    waitForLeadership: false,
    pull: pull ? { batchSize: job.batch } : undefined,
    push: push ? { batchSize: job.batch } : undefined,
  });
}

async function rxdbPull(job) {
  const db = await rxClientDb();
  const t0 = now();
  const rs = rxReplicate(db, job, true, false);
  let error = null;
  rs.error$.subscribe((e) => { error = e; });
  await rs.awaitInitialReplication();
  const ms = now() - t0;
  const count = await db.visits.count().exec();
  await rs.cancel();
  await db.remove();
  if (error) throw error;
  if (count !== job.expect) throw new Error(`rxdb pull got ${count}, want ${job.expect}`);
  return { ms };
}

async function rxdbPush(job, run) {
  const db = await rxClientDb();
  const docs = readDocs(job.file, `r${run}-`);
  await db.visits.bulkInsert(docs);
  let error = null;
  let t0 = now();
  let rs = rxReplicate(db, job, false, true);
  rs.error$.subscribe((e) => { error = e; });
  await rs.awaitInitialReplication();
  const createMs = now() - t0;
  await rs.cancel();
  // 1,000 field updates: change `notes` of every document, then push them.
  const all = await db.visits.find().exec();
  for (const doc of all) await doc.incrementalPatch({ notes: doc.notes + ' 已更新' });
  t0 = now();
  rs = rxReplicate(db, job, false, true);
  rs.error$.subscribe((e) => { error = e; });
  await rs.awaitInitialReplication();
  const updateMs = now() - t0;
  await rs.cancel();
  await db.remove();
  if (error) throw error;
  return { ms: createMs, update_ms: updateMs };
}

const MODES = { 'pouch-pull': pouchPull, 'pouch-push': pouchPush, 'rxdb-pull': rxdbPull, 'rxdb-push': rxdbPush };

async function main() {
  const job = JSON.parse(process.argv[2]);
  const fn = MODES[job.mode];
  if (!fn) throw new Error('unknown mode ' + job.mode);
  const results = [];
  for (let run = 0; run < job.warmup + job.runs; run++) {
    const r = await fn(job, run);
    if (run >= job.warmup) results.push(r);
  }
  console.log(JSON.stringify({ times: results.map((r) => r.ms), update_times: results.map((r) => r.update_ms ?? null) }));
}

main().then(() => process.exit(0)).catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
