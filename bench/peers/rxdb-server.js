// RxDB replication server (rxdb-server, Express adapter) on memory storage, for bench/.
// Usage: node rxdb-server.js PORT [SEED.ndjson]
// Seeding reads an NDJSON file of visit records and bulk-inserts them in-process
// (the point is a big database, not the speed of filling it).
'use strict';
const fs = require('fs');
const readline = require('readline');
const { createRxDatabase } = require('rxdb');
const { getRxStorageMemory } = require('rxdb/plugins/storage-memory');
const { createRxServer } = require('rxdb-server/plugins/server');
const { RxServerAdapterExpress } = require('rxdb-server/plugins/adapter-express');
const { visitSchema } = require('./schema.js');

async function seed(collection, file) {
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let batch = [];
  let total = 0;
  for await (const line of rl) {
    if (!line) continue;
    batch.push(JSON.parse(line));
    if (batch.length === 5000) {
      const res = await collection.bulkInsert(batch);
      if (res.error.length) throw new Error('seed failed: ' + JSON.stringify(res.error[0]));
      total += batch.length;
      batch = [];
    }
  }
  if (batch.length) {
    await collection.bulkInsert(batch);
    total += batch.length;
  }
  return total;
}

async function main() {
  const port = parseInt(process.argv[2], 10);
  const seedFile = process.argv[3];
  const db = await createRxDatabase({ name: 'benchdb', storage: getRxStorageMemory(), multiInstance: false });
  await db.addCollections({ visits: { schema: visitSchema } });
  let seeded = 0;
  if (seedFile) seeded = await seed(db.visits, seedFile);
  const server = await createRxServer({ database: db, adapter: RxServerAdapterExpress, port, hostname: '127.0.0.1' });
  server.addReplicationEndpoint({ name: 'visits', collection: db.visits });
  await server.start();
  console.log(JSON.stringify({ ready: true, port, seeded }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
