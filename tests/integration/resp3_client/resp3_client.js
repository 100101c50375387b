'use strict';
// node-redis with RESP: 3 against one server: what a Node.js user sees.
//
//   node resp3_client.js <host> <port>
//
// Every check asserts the values node-redis hands to the application (not
// bytes: how the client decodes RESP3 maps, nulls, errors and pipelines is
// the point). Each check also records what it saw into a transcript, printed
// as one line `TRANSCRIPT <json>` at the end, so that the caller
// (../resp3_client_test.py) can compare the transcripts of lattice-server
// and redis-server. Exits 0 if every check passed, 1 if one failed or the
// connection could not be made, 3 if the run hangs past the watchdog.
// node-redis is found through NODE_PATH (installed by
// deploy/install-deps.sh --with-tests, never into the checkout).

const assert = require('node:assert/strict');
const { createClient, RESP_TYPES } = require('redis');

const [host, portArg] = process.argv.slice(2);
const port = Number(portArg);
if (!host || !Number.isInteger(port)) {
  console.error('usage: node resp3_client.js <host> <port>');
  process.exit(2);
}

const WATCHDOG_MS = Number(process.env.LATTICE_NODE_WATCHDOG_MS || 60000);
setTimeout(() => {
  console.error(`FAIL: no result after ${WATCHDOG_MS} ms (hung?)`);
  process.exit(3);
}, WATCHDOG_MS).unref();

function connect(extra = {}) {
  const client = createClient({
    socket: { host, port, connectTimeout: 5000, reconnectStrategy: false },
    RESP: 3,
    ...extra,
  });
  // A lost connection shows up as rejected commands; keep the event quiet.
  client.on('error', () => {});
  return client.connect();
}

// An error reply as the application sees it: its class and message.
async function rejection(promise) {
  try {
    const value = await promise;
    return { resolved: value };
  } catch (e) {
    return { error: e.constructor.name, message: e.message };
  }
}

const ERR_NOT_INTEGER = 'ERR value is not an integer or out of range';

const checks = {
  async hello(c) {
    // No protover: the reply describes the connection as negotiated, so
    // proto 3 proves node-redis switched it to RESP3 when connecting.
    const hello = await c.sendCommand(['HELLO']);
    assert.equal(typeof hello, 'object');
    assert.ok(!Array.isArray(hello), 'HELLO under RESP3 is a map, decoded to an object');
    assert.deepEqual(Object.keys(hello),
                     ['server', 'version', 'proto', 'id', 'mode', 'role', 'modules']);
    assert.equal(hello.proto, 3);
    assert.equal(typeof hello.server, 'string');
    assert.equal(typeof hello.version, 'string');
    assert.equal(typeof hello.id, 'number');
    assert.equal(hello.mode, 'standalone');
    assert.equal(hello.role, 'master');
    assert.deepEqual(hello.modules, []);
    // server, version and id differ between servers by design.
    return { ...hello, server: '<masked>', version: '<masked>', id: '<masked>' };
  },

  async strings(c) {
    const seen = {
      set: await c.set('greeting', 'hello'),
      get: await c.get('greeting'),
      getMissing: await c.get('missing'),
      setNxExisting: await c.set('greeting', 'other', { NX: true }),
      setGet: await c.sendCommand(['SET', 'greeting', 'bye', 'GET']),
      getDelMissing: await c.getDel('missing'),
      append: await c.append('greeting', '!'),
      strLen: await c.strLen('greeting'),
      getRange: await c.getRange('greeting', 0, 2),
      after: await c.get('greeting'),
    };
    assert.deepEqual(seen, {
      set: 'OK', get: 'hello', getMissing: null, setNxExisting: null, setGet: 'hello',
      getDelMissing: null, append: 4, strLen: 4, getRange: 'bye', after: 'bye!',
    });
    return seen;
  },

  async counters(c) {
    const seen = {
      incr: await c.incr('n'),
      incrBy: await c.incrBy('n', 41),
      decrBy: await c.decrBy('n', 2),
      get: await c.get('n'),
      incrByFloat: await c.incrByFloat('f', 1.5),
      incrByFloatAgain: await c.incrByFloat('f', 0.25),
      incrText: await rejection(c.incr('greeting')),
      incrByFloatText: await rejection(c.incrByFloat('greeting', 1)),
    };
    assert.deepEqual(seen, {
      incr: 1, incrBy: 42, decrBy: 40, get: '40', incrByFloat: '1.5', incrByFloatAgain: '1.75',
      incrText: { error: 'SimpleError', message: ERR_NOT_INTEGER },
      incrByFloatText: { error: 'SimpleError', message: 'ERR value is not a valid float' },
    });
    return seen;
  },

  async mget(c) {
    await c.mSet({ a: '1', b: '2' });
    const seen = await c.mGet(['a', 'missing', 'b', 'n']);
    assert.deepEqual(seen, ['1', null, '2', '40']);
    return seen;
  },

  async maps(c) {
    await c.mSet({ key1: 'ohmytext', key2: 'mynewtext' });
    const seen = {
      lcs: await c.lcs('key1', 'key2'),
      lcsLen: await c.sendCommand(['LCS', 'key1', 'key2', 'LEN']),
      // A RESP3 map reply, decoded to an object with nested arrays.
      lcsIdx: await c.sendCommand(['LCS', 'key1', 'key2', 'IDX']),
    };
    assert.deepEqual(JSON.parse(JSON.stringify(seen)), {
      lcs: 'mytext', lcsLen: 6,
      lcsIdx: { matches: [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], len: 6 },
    });
    return seen;
  },

  async errors(c) {
    const seen = {
      unknown: await rejection(c.sendCommand(['NOSUCHCOMMAND', 'x'])),
      arity: await rejection(c.sendCommand(['GET'])),
      noSuchKey: await rejection(c.rename('missing', 'x')),
      syntax: await rejection(c.sendCommand(['SET', 'k', 'v', 'NX', 'XX'])),
      // The connection survives error replies.
      ping: await c.ping(),
    };
    assert.deepEqual(seen, {
      unknown: { error: 'SimpleError', message:
        "ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'x' " },
      arity: { error: 'SimpleError', message: "ERR wrong number of arguments for 'get' command" },
      noSuchKey: { error: 'SimpleError', message: 'ERR no such key' },
      syntax: { error: 'SimpleError', message: 'ERR syntax error' },
      ping: 'PONG',
    });
    return seen;
  },

  async binary(c) {
    const value = Buffer.from([0, 255, 13, 10, 36, 42]);
    const key = Buffer.from('bin\0\r\nkey', 'binary');
    assert.equal(await c.set(key, value), 'OK');
    const raw = c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    const got = await raw.get(key);
    assert.ok(Buffer.isBuffer(got));
    assert.deepEqual(got, value);
    assert.equal(await c.strLen(key), 6);
    return got.toString('hex');
  },

  async expiry(c) {
    await c.set('t', 'v');
    const seen = {
      expire: await c.expire('t', 100),
      ttl: await c.ttl('t'),
      pTtl: await c.pTTL('t'),
      expireAt: await c.expireAt('t', 4102444800),
      expireTime: await c.expireTime('t'),
      persist: await c.persist('t'),
      ttlAfter: await c.ttl('t'),
      ttlMissing: await c.ttl('missing'),
    };
    assert.equal(seen.expire, 1);
    assert.ok(seen.ttl >= 98 && seen.ttl <= 100, `TTL ${seen.ttl}`);
    assert.ok(seen.pTtl > 98000 && seen.pTtl <= 100000, `PTTL ${seen.pTtl}`);
    assert.deepEqual([seen.expireAt, seen.expireTime, seen.persist, seen.ttlAfter, seen.ttlMissing],
                     [1, 4102444800, 1, -1, -2]);
    return { ...seen, ttl: 'within 98..100', pTtl: 'within 98000..100000' };
  },

  async pipelining(c) {
    // Commands issued without waiting go out back to back on the one
    // connection; replies come back in order.
    const n = 1000;
    const incrs = await Promise.all(Array.from({ length: n }, () => c.incr('pipe')));
    assert.deepEqual(incrs, Array.from({ length: n }, (_, i) => i + 1));
    // The explicit pipeline API (no MULTI/EXEC).
    const batch = await c.multi()
      .set('p:a', '1').incr('p:a').get('p:a').mGet(['p:a', 'missing']).del(['p:a', 'missing'])
      .execAsPipeline();
    assert.deepEqual(batch, ['OK', 2, '2', ['2', null], 1]);
    // An error inside a pipeline comes back in its place; the commands
    // after it still run.
    const settled = await Promise.allSettled([
      c.set('p:t', 'abc'), c.incr('p:t'), c.append('p:t', 'd'), c.get('p:t')]);
    const inPlace = settled.map((s) => s.status === 'fulfilled' ? s.value
      : { error: s.reason.constructor.name, message: s.reason.message });
    assert.deepEqual(inPlace, ['OK', { error: 'SimpleError', message: ERR_NOT_INTEGER }, 4,
                               'abcd']);
    return { incrsLast: incrs[n - 1], batch, inPlace };
  },

  async scan(c) {
    await c.mSet(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`user:${i}`, `${i}`])));
    const seen = new Set();
    for await (const keys of c.scanIterator({ MATCH: 'user:*', COUNT: 25 })) {
      for (const k of keys) seen.add(k);
    }
    assert.equal(seen.size, 300);
    for (let i = 0; i < 300; i++) assert.ok(seen.has(`user:${i}`), `user:${i} not scanned`);
    return seen.size;
  },

  async keyspace(c) {
    const seen = {
      type: await c.type('greeting'),
      typeMissing: await c.type('missing'),
      exists: await c.exists(['greeting', 'missing', 'greeting']),
      del: await c.del(['a', 'b', 'missing']),
      echo: await c.echo('hi'),
    };
    assert.deepEqual(seen, { type: 'string', typeMissing: 'none', exists: 2, del: 2, echo: 'hi' });
    // A client on database 2 (node-redis sends SELECT 2 when connecting).
    const db2 = await connect({ database: 2 });
    try {
      seen.db2Set = await db2.set('where', 'db2');
      seen.db2Size = await db2.dbSize();
      seen.db0Get = await c.get('where');
      seen.db2Get = await db2.get('where');
    } finally {
      db2.destroy();
    }
    assert.deepEqual([seen.db2Set, seen.db2Size, seen.db0Get, seen.db2Get],
                     ['OK', 1, null, 'db2']);
    return seen;
  },

  async pubsub(c) {
    // A subscriber on its own connection (RESP3 pushes), by channel and by
    // pattern; PUBLISH counts both subscriptions.
    const sub = await connect();
    const got = [];
    await sub.subscribe('news', (message, channel) => got.push(['channel', channel, message]));
    await sub.pSubscribe('n*', (message, channel) => got.push(['pattern', channel, message]));
    const receivers = await c.publish('news', 'hello');
    const nobody = await c.publish('elsewhere', 'x');
    const deadline = Date.now() + 5000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const numsub = await c.sendCommand(['PUBSUB', 'NUMSUB', 'news']);
    await sub.unsubscribe('news');
    await sub.pUnsubscribe('n*');
    sub.destroy();
    got.sort();
    assert.equal(receivers, 2);
    assert.equal(nobody, 0);
    assert.deepEqual(got, [['channel', 'news', 'hello'], ['pattern', 'news', 'hello']]);
    return { receivers, nobody, got, numsub };
  },

  async clientSideCaching(c) {
    // node-redis's client-side cache turns CLIENT TRACKING on and drops an
    // entry when the server's invalidation push arrives.
    const { BasicClientSideCache } = require('redis');
    const cache = new BasicClientSideCache({ ttl: 0, maxEntries: 0 });
    const cached = await connect({ clientSideCache: cache });
    await c.set('csc:k', 'v1');
    const first = await cached.get('csc:k');
    const second = await cached.get('csc:k');
    const hits = cache.stats().hitCount;
    await c.set('csc:k', 'v2');  // another connection writes: the server invalidates
    let third = null;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      third = await cached.get('csc:k');
      if (third === 'v2') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    cached.destroy();
    assert.equal(first, 'v1');
    assert.equal(second, 'v1');
    assert.equal(hits, 1);  // the second GET came from the cache
    assert.equal(third, 'v2');
    return { first, second, hits, third };
  },
};

async function main() {
  let client;
  try {
    client = await connect();
  } catch (e) {
    console.error(`FAIL: cannot connect to ${host}:${port}: ${e.message}`);
    return 1;
  }
  const transcript = {};
  const failures = [];
  try {
    assert.equal(await client.flushAll(), 'OK');
    for (const [name, check] of Object.entries(checks)) {
      try {
        transcript[name] = await check(client);
        console.log(`ok   ${name}`);
      } catch (e) {
        failures.push(name);
        transcript[name] = { failed: e.message };
        console.log(`FAIL ${name}: ${e.stack}`);
      }
    }
  } finally {
    client.destroy();
  }
  console.log('TRANSCRIPT ' + JSON.stringify(transcript));
  console.log(`${Object.keys(checks).length - failures.length} checks passed, ` +
              `${failures.length} failed`);
  return failures.length ? 1 : 0;
}

main().then((code) => { process.exitCode = code; },
            (e) => { console.error('FAIL: ' + e.stack); process.exitCode = 1; });
